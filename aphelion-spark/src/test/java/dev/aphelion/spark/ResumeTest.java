package dev.aphelion.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.tritter.train.CheckpointSettings;
import dev.aphelion.tritter.train.DataParallelTrainer;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.Sequential;
import dev.aphelion.tritter.train.StepListener;
import dev.aphelion.tritter.train.TrainingResult;
import java.nio.file.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resuming from checkpoints, bit for bit (this module's tests pin {@code -Daphelion.kernels=scalar}):
 * in process, and in a Spark barrier stage ({@code local[3,4]}: three task threads, a task may
 * fail three times) in which one task dies in the middle of training.
 */
@Timeout(300)
class ResumeTest {
  static final ExchangeSettings C32 = ExchangeSettings.compressed(32, 5);

  /** Throws in worker 1 after step 13, in the stage's first attempt only (Spark) or always (in process). */
  static final StepListener DIE_AFTER_13 = (rank, steps) -> {
    TaskContext task = TaskContext.get();
    if (rank == 1 && steps == 13 && (task == null || task.stageAttemptNumber() == 0)) {
      throw new IllegalStateException("injected failure of worker 1 after step 13");
    }
  };

  @Test
  void inProcessARunResumedAfterAFailureIsTheUninterruptedRunBitForBit(@TempDir Path dir) {
    Sequential straight = SparkTrainerTest.model();
    DataParallelTrainer.fit(straight, SparkTrainerTest.TRAIN, null, SparkTrainerTest.config(), 3, C32);
    CheckpointSettings ck = CheckpointSettings.every(dir, 5);
    AphelionException e = assertThrows(AphelionException.class, () -> DataParallelTrainer.fit(SparkTrainerTest.model(),
        SparkTrainerTest.TRAIN, null, SparkTrainerTest.config(), 3, C32, ck, DIE_AFTER_13));
    assertTrue(e.getMessage().contains("injected failure"), e.getMessage());
    Sequential resumed = SparkTrainerTest.model();
    TrainingResult r = DataParallelTrainer.fit(resumed, SparkTrainerTest.TRAIN, null, SparkTrainerTest.config(), 3, C32, ck, null);
    assertEquals(40 - 10, r.workers().getFirst().steps());
    assertArrayEquals(straight.parameters(), resumed.parameters(), "resumed = uninterrupted, bit for bit");
  }

  @Test
  void sparkReRunsTheBarrierStageAfterATaskDiesAndTheTasksResumeFromTheLastCheckpoint(@TempDir Path dir) {
    SparkConf conf = new SparkConf()
        .setMaster("local[3,4]")
        .setAppName("aphelion-resume-test")
        .set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1")
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.barrier.sync.timeout", "120")
        .set("spark.authenticate", "true")
        .set("spark.network.crypto.enabled", "true");
    Sequential straight = SparkTrainerTest.model();
    TrainingResult reference = DataParallelTrainer.fit(straight, SparkTrainerTest.TRAIN, SparkTrainerTest.TEST,
        SparkTrainerTest.config(), 3, C32);
    try (JavaSparkContext spark = new JavaSparkContext(conf)) {
      Sequential viaSpark = SparkTrainerTest.model();
      CheckpointSettings ck = CheckpointSettings.every(dir, 5);
      TrainingResult r = SparkTrainer.fit(SparkTrainer.parallelize(spark, SparkTrainerTest.TRAIN, 3), viaSpark,
          SparkTrainerTest.config(), C32, SparkTrainerTest.TEST, ck, DIE_AFTER_13);
      assertEquals(40 - 10, r.workers().getFirst().steps(), "the second attempt resumed after 10 steps");
      assertArrayEquals(straight.parameters(), viaSpark.parameters(), "resumed in Spark = uninterrupted in process");
      assertEquals(reference.epochs().getLast().evalCorrect(), r.epochs().getLast().evalCorrect());
      System.out.printf("spark local[3,4], a task killed after step 13, resumed from step 10: accuracy %.3f%n",
          r.epochs().getLast().evalAccuracy());

    }
  }

  @Test
  void withoutABarrierTimeoutTheTrainerRefusesToStart() {
    SparkConf conf = new SparkConf().setMaster("local[1]").setAppName("aphelion-no-timeout")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1").set("spark.ui.enabled", "false");
    try (JavaSparkContext spark = new JavaSparkContext(conf)) {
      ConfigException e = assertThrows(ConfigException.class, () -> SparkTrainer.fit(
          SparkTrainer.parallelize(spark, SparkTrainerTest.TRAIN.slice(0, 50), 1), SparkTrainerTest.model(),
          SparkTrainerTest.config(), ExchangeSettings.float32(), null));
      assertTrue(e.getMessage().contains("spark.barrier.sync.timeout"), e.getMessage());
    }
  }
}
