package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientEncoding;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The demo's command-line options.
 *
 * @param data the directory with the IDX files
 * @param dataGiven whether {@code --data} was given (then nothing is installed)
 * @param out where {@code summary.json} and {@code training.png} go
 * @param epochs epochs per training run
 * @param batchSize examples per optimizer step
 * @param learningRate peak Adam learning rate
 * @param workers data-parallel worker threads
 * @param compression how many times smaller than float32 the exchanged gradients must be
 * @param encoding how the compressed gradients are encoded
 * @param skipBaselines skip the uncompressed ternary and float32 runs
 * @param trainLimit use only the first this many training images (0: all)
 * @param seed random seed
 * @param tour run the aphelion-core tour instead of training
 * @param help print usage and stop
 */
public record DemoOptions(
    Path data, boolean dataGiven, Path out, int epochs, int batchSize, float learningRate,
    int workers, double compression, GradientEncoding encoding, boolean skipBaselines, int trainLimit, long seed,
    boolean tour, boolean help) {

  /** The default gradient compression factor. */
  public static final double DEFAULT_COMPRESSION = 32;

  /** The default number of epochs per run. */
  public static final int DEFAULT_EPOCHS = 10;

  /** The usage text. */
  public static final String USAGE = """
      usage: ./aphelion demo [options]

      Trains a BitNet-style ternary MLP (784-256-128-10) on Fashion-MNIST with data-parallel
      workers that exchange compressed gradients, compares it with the same model trained
      uncompressed and with a float32 model, packs it into ternary layers and measures it.
      Writes demo-output/summary.json and demo-output/training.png.

        --data DIR          directory with the four IDX files (default %s;
                            the Debian package %s is installed there when missing)
        --out DIR           output directory (default demo-output)
        --epochs N          epochs per run (default %d)
        --batch N           minibatch size (default 128)
        --lr X              peak Adam learning rate (default 0.002)
        --workers N         data-parallel worker threads (default: available cores)
        --compression R     gradient compression, R times smaller than float32 (default %s)
        --encoding E        gradient encoding: heavy-hitters or vsa-sketch (default %s)
        --skip-baselines    train only the compressed ternary model
        --train-limit N     train on the first N training images only
        --seed N            random seed (default 42)
        --tour              run the aphelion-core API tour instead
        --help              this text
      """.formatted(FashionMnist.DEFAULT_DIR, FashionMnist.DEBIAN_PACKAGE, DEFAULT_EPOCHS,
          factorLabel(DEFAULT_COMPRESSION).replace("x", ""), encodingName(CompressionConfig.DEFAULT_ENCODING));

  /**
   * Parses command-line arguments.
   *
   * @param args the arguments
   * @return the options
   * @throws ConfigException naming an unknown option or a bad value
   */
  public static DemoOptions parse(String... args) {
    Path data = FashionMnist.DEFAULT_DIR;
    boolean dataGiven = false;
    Path out = Path.of("demo-output");
    int epochs = DEFAULT_EPOCHS;
    int batch = 128;
    float lr = 0.002f;
    int workers = Runtime.getRuntime().availableProcessors();
    double compression = DEFAULT_COMPRESSION;
    GradientEncoding encoding = CompressionConfig.DEFAULT_ENCODING;
    boolean skip = false;
    int limit = 0;
    long seed = 42;
    boolean tour = false;
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--data" -> {
          data = Path.of(value(args, i++));
          dataGiven = true;
        }
        case "--out" -> out = Path.of(value(args, i++));
        case "--epochs" -> epochs = positiveInt(a, value(args, i++));
        case "--batch" -> batch = positiveInt(a, value(args, i++));
        case "--lr" -> lr = (float) positiveDouble(a, value(args, i++));
        case "--workers" -> workers = positiveInt(a, value(args, i++));
        case "--compression" -> {
          compression = positiveDouble(a, value(args, i++));
          if (compression < 1 || compression > 100) {
            throw new ConfigException("--compression must be between 1 (no compression) and 100: "
                + compression);
          }
        }
        case "--encoding" -> encoding = parseEncoding(value(args, i++));
        case "--skip-baselines" -> skip = true;
        case "--train-limit" -> limit = positiveInt(a, value(args, i++));
        case "--seed" -> seed = parseLong(a, value(args, i++));
        case "--tour" -> tour = true;
        case "--help", "-h" -> help = true;
        default -> throw new ConfigException("unknown option " + a + " (try --help)");
      }
    }
    if (batch < workers) {
      throw new ConfigException("--batch " + batch + " must be at least --workers " + workers);
    }
    return new DemoOptions(data, dataGiven, out, epochs, batch, lr, workers, compression, encoding, skip,
        limit, seed, tour, help);
  }

  private static String value(String[] args, int i) {
    if (i + 1 >= args.length) {
      throw new ConfigException(args[i] + " needs a value (try --help)");
    }
    return args[i + 1];
  }

  private static int positiveInt(String name, String v) {
    try {
      int n = Integer.parseInt(v.trim());
      if (n <= 0) {
        throw new ConfigException(name + " must be positive: " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " needs an integer, got '" + v + "'");
    }
  }

  private static double positiveDouble(String name, String v) {
    try {
      double d = Double.parseDouble(v.trim());
      if (!(d > 0) || Double.isInfinite(d)) {
        throw new ConfigException(name + " must be positive and finite: " + v);
      }
      return d;
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " needs a number, got '" + v + "'");
    }
  }

  private static GradientEncoding parseEncoding(String v) {
    for (GradientEncoding e : GradientEncoding.values()) {
      if (encodingName(e).equals(v.trim().toLowerCase(Locale.ROOT))) {
        return e;
      }
    }
    throw new ConfigException("--encoding must be heavy-hitters or vsa-sketch, got '" + v + "'");
  }

  /** The command-line name of an encoding, for example {@code vsa-sketch}. */
  static String encodingName(GradientEncoding e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static long parseLong(String name, String v) {
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " needs an integer, got '" + v + "'");
    }
  }

  /** The compression factor as text, for example {@code 32x}. */
  public String compressionLabel() {
    return factorLabel(compression);
  }

  private static String factorLabel(double factor) {
    return factor == Math.rint(factor)
        ? String.format(Locale.ROOT, "%dx", (long) factor)
        : String.format(Locale.ROOT, "%.1fx", factor);
  }
}
