package dev.aphelion.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.tritter.train.DataParallelTrainer;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.ExchangeStats;
import dev.aphelion.tritter.train.Examples;
import dev.aphelion.tritter.train.LearningRateSchedule;
import dev.aphelion.tritter.train.OptimizerConfig;
import dev.aphelion.tritter.train.Sequential;
import dev.aphelion.tritter.train.SyntheticDigits;
import dev.aphelion.tritter.train.TrainingConfig;
import dev.aphelion.tritter.train.TrainingResult;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.network.TransportContext;
import org.apache.spark.network.client.TransportClient;
import org.apache.spark.network.client.TransportClientFactory;
import org.apache.spark.network.crypto.AuthClientBootstrap;
import org.apache.spark.network.sasl.SecretKeyHolder;
import org.apache.spark.network.server.NoOpRpcHandler;
import org.apache.spark.network.util.MapConfigProvider;
import org.apache.spark.network.util.TransportConf;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Data-parallel training as a Spark barrier stage in local mode ({@code local[3]}: three task
 * threads in this JVM, all RPC on 127.0.0.1) with {@code spark.authenticate} and
 * {@code spark.network.crypto.enabled} on, against the in-process trainer.
 */
@Timeout(240)
class SparkTrainerTest {
  static final Examples TRAIN = SyntheticDigits.generate(1203, 1);
  static final Examples TEST = SyntheticDigits.generate(500, 2);
  private static final String SECRET = java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(32));
  private static JavaSparkContext spark;

  @BeforeAll
  static void start() {
    SparkConf conf = new SparkConf()
        .setMaster("local[3]")
        .setAppName("aphelion-spark-test")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.barrier.sync.timeout", "120")
        // Spark's own security, as documented: RPC authentication with a shared secret, and AES encryption
        .set("spark.authenticate", "true")
        .set("spark.authenticate.secret", SECRET)
        .set("spark.network.crypto.enabled", "true");
    spark = new JavaSparkContext(conf);
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  static Sequential model() {
    return Sequential.builder(64).rmsNorm().ternary(96).relu().rmsNorm().ternary(10).build(11);
  }

  /**
   * Few, large steps: Spark's barrier all-gather polls its reply once a second (Thread.sleep(1000)
   * in BarrierTaskContext.runBarrier, Spark 4.2.0), so a step costs up to a second however small
   * the model is. 8 epochs of 5 steps (2 partitions of 601 and 602 rows with a local batch of
   * 128, or 3 of 401 with 86), each epoch's last step short.
   */
  static TrainingConfig config() {
    return TrainingConfig.of(8, 256, LearningRateSchedule.warmupCosine(0.02, 4))
        .withOptimizer(OptimizerConfig.AdamW.defaults(1e-4f));
  }

  private static void report(String what, TrainingResult r) {
    ExchangeStats s = r.workers().getFirst().exchange();
    System.out.printf("%s: accuracy %.3f, %.2f ms/step, %d steps, message %.0f B/step (float32 %.0f B, %.1fx), "
            + "on the wire %.0f B/step per worker (%.1fx)%n",
        what, r.epochs().getLast().evalAccuracy(), r.millisPerStep(), r.workers().getFirst().steps(),
        s.messageBytesPerStep(), (double) s.float32Bytes() / Math.max(1, s.steps()), s.ratio(), s.transportBytesPerStep(),
        (double) s.float32Bytes() / Math.max(1, s.transportBytes()));
  }

  @Test
  void float32OverTwoPartitionsIsTheInProcessRunBitForBit() {
    Sequential viaSpark = model();
    long t0 = System.nanoTime();
    TrainingResult s = SparkTrainer.fit(SparkTrainer.parallelize(spark, TRAIN, 2), viaSpark, config(),
        ExchangeSettings.float32(), TEST);
    double seconds = (System.nanoTime() - t0) / 1e9;
    report("spark local[3], 2 partitions, f32", s);
    Sequential inProcess = model();
    TrainingResult t = DataParallelTrainer.fit(inProcess, TRAIN, TEST, config(), 2, ExchangeSettings.float32());
    report("in-process, 2 threads, f32", t);
    assertArrayEquals(inProcess.parameters(), viaSpark.parameters(), "Spark computes the in-process run's bits");
    assertEquals(2, s.workers().size());
    assertTrue(s.epochs().getLast().evalAccuracy() >= 0.95, "accuracy " + s.epochs().getLast().evalAccuracy());
    assertEquals(TRAIN.count(), s.epochs().getLast().seen(), "every row once per epoch, the short last batches included");
    // the exported inference network scores the same as the trainer measured
    int[] p = viaSpark.export().predict(TEST.features(), TEST.count());
    int correct = 0;
    for (int i = 0; i < p.length; i++) {
      correct += p[i] == TEST.labels()[i] ? 1 : 0;
    }
    assertEquals(s.epochs().getLast().evalCorrect(), correct);
    ExchangeStats ex = s.workers().getFirst().exchange();
    // 7 bits per one-byte character, plus one byte per (rare) two-byte character
    long sevenBit = (8 * ex.messageBytes() + 6 * ex.steps()) / 7;
    assertTrue(ex.transportBytes() >= sevenBit && ex.transportBytes() <= sevenBit * 1.02,
        "7-bit text: 8/7 of the bytes, got " + ex.transportBytes() + " for " + ex.messageBytes());
    System.out.printf("spark f32 job: %.1f s%n", seconds);
  }

  @Test
  void compressed32xOverThreePartitionsMatchesInProcessAndFloat32Accuracy() {
    Sequential viaSpark = model();
    ExchangeSettings c32 = ExchangeSettings.compressed(32, 5);
    TrainingResult s = SparkTrainer.fit(SparkTrainer.parallelize(spark, TRAIN, 3), viaSpark, config(), c32, TEST);
    report("spark local[3], 3 partitions, 32x", s);
    Sequential inProcess = model();
    TrainingResult t = DataParallelTrainer.fit(inProcess, TRAIN, TEST, config(), 3, c32);
    assertArrayEquals(inProcess.parameters(), viaSpark.parameters(), "compressed exchange over Spark = in process");
    Sequential f32 = model();
    TrainingResult f = DataParallelTrainer.fit(f32, TRAIN, TEST, config(), 3, ExchangeSettings.float32());
    report("in-process, 3 threads, f32", f);
    double acc = s.epochs().getLast().evalAccuracy();
    double ref = f.epochs().getLast().evalAccuracy();
    assertTrue(acc >= 0.93 && acc >= ref - 0.03, "32x accuracy " + acc + ", float32 " + ref);
    ExchangeStats ex = s.workers().getFirst().exchange();
    assertTrue(ex.ratio() > 32, "messages " + ex.ratio() + "x smaller than float32");
    double wire = (double) ex.float32Bytes() / ex.transportBytes();
    assertTrue(wire >= 30 && wire <= 36, "on the wire, 32x asked: " + wire + "x");
  }

  @Test
  void aFailingTaskFailsTheJobWithItsCauseInsteadOfHanging() {
    List<LabeledRow> rows = new java.util.ArrayList<>(LabeledRow.of(TRAIN.slice(0, 90)));
    rows.set(80, new LabeledRow(rows.get(80).features(), 12)); // a label the 10-class model cannot have, in the last partition
    JavaRDD<LabeledRow> bad = spark.parallelize(rows, 3);
    AphelionException e = assertThrows(AphelionException.class,
        () -> SparkTrainer.fit(bad, model(), config(), ExchangeSettings.float32(), null));
    assertTrue(e.getMessage().contains("label 12"), e.getMessage());
  }

  /** Opens an authenticated connection to the driver's RPC port, as an executor process would. */
  private static void connect(String secret) throws Exception {
    int port = Integer.parseInt(spark.getConf().get("spark.driver.port"));
    TransportConf conf = new TransportConf("rpc", new MapConfigProvider(Map.of(
        "spark.authenticate", "true", "spark.network.crypto.enabled", "true", "spark.network.crypto.saslFallback", "false")));
    SecretKeyHolder keys = new SecretKeyHolder() {
      @Override
      public String getSaslUser(String appId) {
        return "sparkSaslUser";
      }

      @Override
      public String getSecretKey(String appId) {
        return secret;
      }
    };
    try (TransportContext context = new TransportContext(conf, new NoOpRpcHandler());
        TransportClientFactory factory = context.createClientFactory(List.of(new AuthClientBootstrap(conf, "sparkSaslUser", keys)))) {
      TransportClient client = factory.createClient("127.0.0.1", port);
      assertTrue(client.isActive());
      client.close();
    }
  }

  @Test
  void aClientWithoutTheSecretIsRefusedAndOneWithItIsAccepted() throws Exception {
    // in local mode Spark generates the job's secret itself (a cluster manager's master uses
    // spark.authenticate.secret); the same client code with that secret gets in, so the refusal
    // below is the secret's doing
    String secret = org.apache.spark.SparkEnv.get().securityManager().getSecretKey();
    assertTrue(secret != null && !secret.isEmpty());
    connect(secret);
    Exception refused = assertThrows(Exception.class, () -> connect(SECRET.substring(1) + "0"));
    Throwable root = refused;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertTrue(String.valueOf(root.getMessage()).contains("Authentication failed"), refused.toString());
  }
}
