package dev.aphelion.spark;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.train.CheckpointSettings;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.Examples;
import dev.aphelion.tritter.train.LearningRateSchedule;
import dev.aphelion.tritter.train.OptimizerConfig;
import dev.aphelion.tritter.train.Sequential;
import dev.aphelion.tritter.train.TrainingConfig;
import dev.aphelion.tritter.train.TrainingResult;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The Spark job of docs/training.md, as printed there (between the markers). */
@Timeout(240)
class UserGuideSparkJobTest {

  @Test
  void theUserGuidesSparkJobTrains(@TempDir Path checkpointDir) {
    Examples train = SparkTrainerTest.TRAIN;
    Examples test = SparkTrainerTest.TEST;
    Sequential model = Sequential.builder(64).rmsNorm().ternary(96).relu().rmsNorm().ternary(10).build(42);
    String secret = java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(32));
    double accuracy;
    // --- docs/training.md
    SparkConf conf = new SparkConf().setMaster("local[3]").setAppName("train")   // or spark://host:7077
        .set("spark.barrier.sync.timeout", "300")     // required: a lost task fails the stage instead of hanging
        .set("spark.authenticate", "true").set("spark.authenticate.secret", secret)
        .set("spark.network.crypto.enabled", "true");
    TrainingConfig config = TrainingConfig.of(8, 256, LearningRateSchedule.warmupCosine(0.02, 4))
        .withOptimizer(OptimizerConfig.AdamW.defaults(1e-4f));
    try (JavaSparkContext spark = new JavaSparkContext(conf)) {
      JavaRDD<LabeledRow> rows = SparkTrainer.parallelize(spark, train, 3);       // or any JavaRDD<LabeledRow>
      TrainingResult r = SparkTrainer.fit(rows, model, config, ExchangeSettings.compressed(32, 7), test,
          CheckpointSettings.every(checkpointDir, 10), null);                     // a shared directory
      accuracy = r.epochs().getLast().evalAccuracy();
    }
    // --- end
    assertTrue(accuracy >= 0.93, "accuracy " + accuracy);
  }
}
