package dev.aphelion.examples.fashion;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientEncoding;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The demo's command-line options, parsed by picocli (which also writes {@link #usage()}).
 *
 * @param data the directory with the IDX files
 * @param dataGiven whether {@code --data} was given
 * @param out where {@code summary.json} and {@code training.png} go
 * @param epochs epochs per training run
 * @param batchSize examples per optimizer step
 * @param learningRate peak Adam learning rate
 * @param workers data-parallel worker threads
 * @param compression how many times smaller than float32 the exchanged gradients must be
 * @param encoding how the compressed gradients are encoded
 * @param sketchRows rows of the count sketch encoding (odd, 1 to 15)
 * @param skipBaselines skip the uncompressed ternary and float32 runs
 * @param trainLimit use only the first this many training images (0: all)
 * @param seed random seed
 * @param tour run the aphelion-core tour instead of training
 * @param help print usage and stop
 */
public record DemoOptions(
    Path data, boolean dataGiven, Path out, int epochs, int batchSize, float learningRate,
    int workers, double compression, GradientEncoding encoding, int sketchRows, boolean skipBaselines, int trainLimit, long seed,
    boolean tour, boolean help) {

  /** The default gradient compression factor. */
  public static final double DEFAULT_COMPRESSION = 32;

  /** The default number of epochs per run. */
  public static final int DEFAULT_EPOCHS = 10;

  /**
   * Parses command-line arguments.
   *
   * @param args the arguments
   * @return the options
   * @throws ConfigException naming an unknown option or a bad value
   */
  public static DemoOptions parse(String... args) {
    Cli cli = new Cli();
    ParseResult result;
    try {
      result = command(cli).parseArgs(args);
    } catch (ParameterException e) {
      String hint = e instanceof UnmatchedArgumentException u && !u.getSuggestions().isEmpty()
          ? " (did you mean " + String.join(" or ", u.getSuggestions()) + "?)" : " (try --help)";
      throw new ConfigException(e.getMessage() + hint, e);
    }
    if (cli.sketchRows % 2 == 0 || cli.sketchRows > 15) {
      throw new ConfigException("--sketch-rows " + cli.sketchRows + " must be odd and at most 15 (the median over rows)");
    }
    if (!cli.help && cli.batch < cli.workers) {
      throw new ConfigException("--batch " + cli.batch + " must be at least --workers " + cli.workers
          + " (each worker needs an example of every minibatch)");
    }
    return new DemoOptions(cli.data, result.hasMatchedOption("--data"), cli.out, cli.epochs,
        cli.batch, (float) cli.learningRate, cli.workers, cli.compression, cli.encoding,
        cli.sketchRows, cli.skipBaselines, cli.trainLimit, cli.seed, cli.tour, cli.help);
  }

  /**
   * The usage text that {@code --help} prints.
   *
   * @return every option with its default
   */
  public static String usage() {
    return command(new Cli()).getUsageMessage(CommandLine.Help.Ansi.OFF);
  }

  private static CommandLine command(Cli cli) {
    return new CommandLine(cli).setDefaultValueProvider(DemoOptions::runtimeDefault);
  }

  /** Defaults that are known only at run time or that come from the library. */
  private static String runtimeDefault(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    return switch (option.longestName()) {
      case "--data" -> FashionMnist.DEFAULT_DIR.toString();
      case "--workers" -> Integer.toString(Runtime.getRuntime().availableProcessors());
      case "--encoding" -> encodingName(CompressionConfig.DEFAULT_ENCODING);
      default -> null;
    };
  }

  /**
   * The command-line name of an encoding, for example {@code vsa-sketch}.
   *
   * @param e the encoding
   * @return its lower-case, dashed name
   */
  static String encodingName(GradientEncoding e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The compression factor as text, for example {@code 32x}.
   *
   * @return the label
   */
  public String compressionLabel() {
    return compression == Math.rint(compression)
        ? String.format(Locale.ROOT, "%dx", (long) compression)
        : String.format(Locale.ROOT, "%.1fx", compression);
  }

  @Command(
      name = "./aphelion demo",
      sortOptions = false,
      usageHelpAutoWidth = true,
      descriptionHeading = "%n",
      optionListHeading = "%nOptions:%n",
      description = {
        "Trains a BitNet-style ternary MLP (784-256-128-10) on Fashion-MNIST with data-parallel"
            + " workers that exchange compressed gradients, compares it with the same model trained"
            + " uncompressed and with a float32 model, packs it into ternary layers and measures"
            + " it. Writes summary.json and training.png into the output directory."
      },
      footer = {
        "",
        "Before it starts, ./aphelion demo checks for the data set and offers to install the"
            + " Debian package " + FashionMnist.DEBIAN_PACKAGE + " (it asks first; --yes or"
            + " APHELION_YES=1 installs without asking)."
      })
  private static final class Cli {
    @Option(names = "--data", paramLabel = "DIR",
        description = "directory with the four IDX files, each optionally .gz (default:"
            + " ${DEFAULT-VALUE}, where the Debian package " + FashionMnist.DEBIAN_PACKAGE
            + " puts them)")
    Path data;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "demo-output",
        description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "" + DEFAULT_EPOCHS,
        converter = PositiveInt.class, description = "epochs per run (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "128",
        converter = PositiveInt.class, description = "minibatch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "0.002",
        converter = PositiveNumber.class,
        description = "peak Adam learning rate (default: ${DEFAULT-VALUE})")
    double learningRate;

    @Option(names = "--workers", paramLabel = "N", converter = PositiveInt.class,
        description = "data-parallel worker threads (default: the available cores,"
            + " ${DEFAULT-VALUE} here)")
    int workers;

    @Option(names = "--compression", paramLabel = "R",
        defaultValue = "" + (long) DEFAULT_COMPRESSION, converter = CompressionFactor.class,
        description = "gradient compression: R times smaller than float32, 1 (none) to 1000 (the library's limit)"
            + " (default: ${DEFAULT-VALUE})")
    double compression;

    @Option(names = "--encoding", paramLabel = "E", converter = EncodingName.class,
        completionCandidates = EncodingNames.class,
        description = "gradient encoding: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    GradientEncoding encoding;

    @Option(names = "--sketch-rows", paramLabel = "R", converter = PositiveInt.class,
        defaultValue = "" + CompressionConfig.DEFAULT_SKETCH_ROWS,
        description = "rows of the count-sketch encoding, odd, 1 to 15 (default: ${DEFAULT-VALUE})")
    int sketchRows;

    @Option(names = "--skip-baselines",
        description = "train only the compressed ternary model")
    boolean skipBaselines;

    @Option(names = "--train-limit", paramLabel = "N", converter = PositiveInt.class,
        description = "train on the first N training images only (default: all 60,000)")
    int trainLimit;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
        description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--tour", description = "run the aphelion-core API tour instead")
    boolean tour;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this text and stop")
    boolean help;
  }

  /** A whole number above zero. */
  static final class PositiveInt implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String v) {
      int n;
      try {
        n = Integer.parseInt(v.trim());
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + v + "' is not an integer");
      }
      if (n <= 0) {
        throw new TypeConversionException("'" + v + "' is not positive");
      }
      return n;
    }
  }

  /** A finite number above zero. */
  static final class PositiveNumber implements ITypeConverter<Double> {
    @Override
    public Double convert(String v) {
      double d;
      try {
        d = Double.parseDouble(v.trim());
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + v + "' is not a number");
      }
      if (!(d > 0) || Double.isInfinite(d)) {
        throw new TypeConversionException("'" + v + "' is not positive and finite");
      }
      return d;
    }
  }

  /** A compression factor from 1 (no compression) to the library's 1000 ({@code 1 / CompressionConfig.MIN_RATIO}). */
  static final class CompressionFactor implements ITypeConverter<Double> {
    @Override
    public Double convert(String v) {
      double d = new PositiveNumber().convert(v);
      if (d < 1 || d > 1 / CompressionConfig.MIN_RATIO) {
        throw new TypeConversionException(
            "'" + v + "' is not between 1 (no compression) and " + (long) (1 / CompressionConfig.MIN_RATIO));
      }
      return d;
    }
  }

  /** An encoding by its command-line name, case-insensitive. */
  static final class EncodingName implements ITypeConverter<GradientEncoding> {
    @Override
    public GradientEncoding convert(String v) {
      for (GradientEncoding e : GradientEncoding.values()) {
        if (encodingName(e).equals(v.trim().toLowerCase(Locale.ROOT))) {
          return e;
        }
      }
      throw new TypeConversionException("'" + v + "' is not one of " + new EncodingNames());
    }
  }

  /** The encodings' command-line names, for the usage text and error messages. */
  static final class EncodingNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(GradientEncoding.values()).map(DemoOptions::encodingName).iterator();
    }

    @Override
    public String toString() {
      return String.join(", ", this);
    }
  }
}
