package dev.aphelion.spark;

import dev.aphelion.tritter.train.DataParallelTrainer;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.ExchangeStats;
import dev.aphelion.tritter.train.Examples;
import dev.aphelion.tritter.train.LearningRateSchedule;
import dev.aphelion.tritter.train.OptimizerConfig;
import dev.aphelion.tritter.train.Sequential;
import dev.aphelion.tritter.train.TrainingConfig;
import dev.aphelion.tritter.train.TrainingResult;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measurements for docs/performance.md, not tests (they assert nothing and are off unless asked
 * for): {@code -Daphelion.measure=true} prints step time and bytes per step over Spark
 * {@code local[3]}, float32 and 32x, 2 and 3 workers; {@code -Daphelion.fashion=DIR} trains
 * Fashion-MNIST (the four IDX files, gzipped) over Spark at 32x and float32.
 */
class SparkMeasurements {

  private static JavaSparkContext start() {
    return new JavaSparkContext(new SparkConf().setMaster("local[3]").setAppName("aphelion-measure")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
        .set("spark.barrier.sync.timeout", "300")
        .set("spark.authenticate", "true").set("spark.network.crypto.enabled", "true"));
  }

  private static String row(String what, int workers, TrainingResult r) {
    ExchangeStats s = r.workers().getFirst().exchange();
    return String.format(Locale.ROOT, "| %s | %d | %.0f | %,.0f | %,.0f | %,.0f | %.1fx | %.3f |", what, workers, r.millisPerStep(),
        (double) s.float32Bytes() / s.steps(), s.messageBytesPerStep(), s.transportBytesPerStep(),
        (double) s.float32Bytes() / s.transportBytes(), r.epochs().getLast().evalAccuracy());
  }

  @Test
  @EnabledIfSystemProperty(named = "aphelion.measure", matches = "true")
  void exchangeTable() {
    try (JavaSparkContext spark = start()) {
      System.out.println("| exchange | workers | ms/step | float32 B/step | message B/step | on the wire B/step | wire ratio | accuracy |");
      for (int w : new int[] {2, 3}) {
        for (ExchangeSettings ex : new ExchangeSettings[] {ExchangeSettings.float32(), ExchangeSettings.compressed(32, 5)}) {
          TrainingResult r = SparkTrainer.fit(SparkTrainer.parallelize(spark, SparkTrainerTest.TRAIN, w), SparkTrainerTest.model(),
              SparkTrainerTest.config(), ex, SparkTrainerTest.TEST);
          System.out.println(row(ex.name(), w, r));
        }
      }
    }
  }

  private static Examples idx(Path dir, String prefix, int limit) throws IOException {
    try (DataInputStream images = open(dir.resolve(prefix + "-images-idx3-ubyte.gz"));
        DataInputStream labels = open(dir.resolve(prefix + "-labels-idx1-ubyte.gz"))) {
      if (images.readInt() != 2051 || labels.readInt() != 2049) {
        throw new IOException("not IDX files in " + dir);
      }
      int n = Math.min(limit, images.readInt());
      labels.readInt();
      int px = images.readInt() * images.readInt();
      byte[] raw = new byte[n * px];
      images.readFully(raw);
      byte[] lab = new byte[n];
      labels.readFully(lab);
      float[] f = new float[n * px];
      int[] l = new int[n];
      for (int i = 0; i < raw.length; i++) {
        f[i] = (raw[i] & 0xff) / 255f;
      }
      for (int i = 0; i < n; i++) {
        l[i] = lab[i];
      }
      return new Examples(f, l, px, 10);
    }
  }

  private static DataInputStream open(Path p) throws IOException {
    InputStream in = new GZIPInputStream(Files.newInputStream(p), 1 << 16);
    return new DataInputStream(new java.io.BufferedInputStream(in, 1 << 16));
  }

  @Test
  @EnabledIfSystemProperty(named = "aphelion.fashion", matches = ".+")
  void fashionMnist() throws IOException {
    Path dir = Path.of(System.getProperty("aphelion.fashion"));
    int limit = Integer.getInteger("aphelion.fashion.limit", 60000);
    int epochs = Integer.getInteger("aphelion.fashion.epochs", 3);
    int batch = Integer.getInteger("aphelion.fashion.batch", 512);
    double lr = Double.parseDouble(System.getProperty("aphelion.fashion.lr", "0.004"));
    boolean viaSpark = Boolean.parseBoolean(System.getProperty("aphelion.fashion.spark", "true"));
    Examples train = idx(dir, "train", limit);
    Examples test = idx(dir, "t10k", 10000);
    TrainingConfig config = TrainingConfig.of(epochs, batch, LearningRateSchedule.warmupCosine(lr, 20))
        .withOptimizer(OptimizerConfig.AdamW.defaults(1e-4f)).withSeed(42);
    System.out.printf(Locale.ROOT, "Fashion-MNIST %d train / %d test, %d epochs, batch %d, lr %.4f, %s%n", train.count(),
        test.count(), epochs, batch, lr, viaSpark ? "Spark local[3], 3 partitions" : "in process, 3 threads");
    System.out.println("| exchange | workers | ms/step | float32 B/step | message B/step | on the wire B/step | wire ratio | accuracy |");
    try (JavaSparkContext spark = viaSpark ? start() : null) {
      for (ExchangeSettings ex : new ExchangeSettings[] {ExchangeSettings.compressed(32, 42), ExchangeSettings.float32()}) {
        Sequential model = Sequential.builder(784).rmsNorm().ternary(256).relu().rmsNorm().ternary(128).relu().rmsNorm().ternary(10)
            .build(42);
        long t0 = System.nanoTime();
        TrainingResult r = viaSpark
            ? SparkTrainer.fit(SparkTrainer.parallelize(spark, train, 3), model, config, ex, test)
            : DataParallelTrainer.fit(model, train, test, config, 3, ex);
        System.out.println(row(ex.name(), 3, r) + String.format(Locale.ROOT, " %.0f s", (System.nanoTime() - t0) / 1e9));
        r.epochs().forEach(e -> System.out.printf(Locale.ROOT, "  epoch %d: train loss %.4f, test accuracy %.4f%n", e.epoch(),
            e.trainLoss(), e.evalAccuracy()));
      }
    }
  }
}
