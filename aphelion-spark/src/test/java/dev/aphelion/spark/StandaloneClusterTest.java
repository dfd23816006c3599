package dev.aphelion.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.tritter.train.CheckpointSettings;
import dev.aphelion.tritter.train.DataParallelTrainer;
import dev.aphelion.tritter.train.ExchangeSettings;
import dev.aphelion.tritter.train.Sequential;
import dev.aphelion.tritter.train.TrainingResult;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real cluster on this machine: a Spark standalone master and two workers, each a separate JVM
 * ({@code org.apache.spark.deploy.master.Master} and {@code worker.Worker} from spark-core, on
 * this test's class path), all on 127.0.0.1 with {@code spark.authenticate} and RPC encryption on.
 * The driver (this JVM) trains over two partitions, one executor JVM per worker; once the first
 * checkpoint is complete one executor is killed with SIGKILL. Spark re-runs the barrier stage on
 * a replacement executor, the tasks resume from the last checkpoint, and the job ends with the
 * parameters of the uninterrupted in-process run (scalar kernels in every JVM).
 */
@Tag("multiprocess")
@Timeout(480)
class StandaloneClusterTest {
  private static final String SECRET = java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(32));

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static List<String> jvmOptions() {
    String opts = System.getProperty("aphelion.spark.jvmOptions", "");
    List<String> out = new ArrayList<>();
    for (String o : opts.trim().split("\\s+")) {
      if (!o.isEmpty()) {
        out.add(o);
      }
    }
    return out;
  }

  private static String securityOptions() {
    return "-Dspark.authenticate=true -Dspark.authenticate.secret=" + SECRET + " -Dspark.network.crypto.enabled=true";
  }

  private static Process launch(Path dir, String name, String mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.addAll(jvmOptions());
    cmd.addAll(List.of(securityOptions().split(" ")));
    cmd.add("-Dlog4j2.configurationFile=" + log4j());
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    // the worker builds executor command lines with Spark's launcher, which wants a Spark home
    // and a Scala version; the executors' class path comes from spark.executor.extraClassPath
    pb.environment().put("SPARK_HOME", dir.toString());
    pb.environment().put("SPARK_SCALA_VERSION", "2.13");
    pb.environment().put("SPARK_TESTING", "1");
    return pb.start();
  }

  private static String log4j() {
    return Optional.ofNullable(StandaloneClusterTest.class.getResource("/log4j2-test.properties")).map(u -> u.getPath()).orElse("");
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static List<ProcessHandle> executors(Process... workers) {
    List<ProcessHandle> out = new ArrayList<>();
    for (Process w : workers) {
      w.descendants().filter(p -> commandLine(p).contains("CoarseGrainedExecutorBackend")).forEach(out::add);
    }
    return out;
  }

  /** Waits until a port on 127.0.0.1 accepts connections (a JVM starting under load can take a minute). */
  private static void awaitPort(int port, String what, Path log, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
    while (true) {
      try (java.net.Socket s = new java.net.Socket()) {
        s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
        return;
      } catch (IOException e) {
        assertTrue(p.isAlive(), what + " exited:\n" + tail(log));
        assertTrue(System.nanoTime() < deadline, what + " not listening on port " + port + " within 150 s:\n" + tail(log));
        Thread.sleep(200);
      }
    }
  }

  /** The process's command line (Linux /proc; ProcessHandle.Info may truncate a long one). */
  private static String commandLine(ProcessHandle p) {
    try {
      return new String(Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline")), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return p.info().commandLine().orElse("");
    }
  }

  @Test
  void anExecutorKilledWithSigkillMidTrainingCostsOnlyTheStepsSinceTheLastCheckpoint(@TempDir Path dir) throws Exception {
    Sequential straight = SparkTrainerTest.model();
    DataParallelTrainer.fit(straight, SparkTrainerTest.TRAIN, null, SparkTrainerTest.config(), 2, ResumeTest.C32);

    int masterPort = freePort();
    String master = "spark://127.0.0.1:" + masterPort;
    List<Process> procs = new ArrayList<>();
    try {
      procs.add(launch(dir, "master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
          Integer.toString(masterPort), "--webui-port", Integer.toString(freePort())));
      awaitPort(masterPort, "the master", dir.resolve("master.log"), procs.getFirst());
      int[] workerPorts = new int[2];
      for (int w = 0; w < 2; w++) {
        Path work = Files.createDirectories(dir.resolve("work-" + w));
        workerPorts[w] = freePort();
        procs.add(launch(dir, "worker-" + w, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--port",
            Integer.toString(workerPorts[w]), "--cores", "1", "--memory", "1g", "--work-dir", work.toString(), "--webui-port",
            Integer.toString(freePort()), master));
      }
      for (int w = 0; w < 2; w++) {
        awaitPort(workerPorts[w], "worker " + w, dir.resolve("worker-" + w + ".log"), procs.get(1 + w));
      }
      SparkConf conf = new SparkConf()
          .setMaster(master)
          .setAppName("aphelion-standalone-test")
          .set("spark.driver.host", "127.0.0.1")
          .set("spark.driver.bindAddress", "127.0.0.1")
          .set("spark.ui.enabled", "false")
          .set("spark.ui.showConsoleProgress", "false")
          .set("spark.executor.memory", "512m")
          .set("spark.executor.cores", "1")
          .set("spark.executor.extraClassPath", System.getProperty("java.class.path"))
          .set("spark.executor.extraJavaOptions", String.join(" ", jvmOptions()) + " -XX:TieredStopAtLevel=1 -Daphelion.kernels=scalar")
          .set("spark.barrier.sync.timeout", "120")
          .set("spark.authenticate", "true")
          .set("spark.authenticate.secret", SECRET)
          .set("spark.network.crypto.enabled", "true");
      Path ckDir = dir.resolve("checkpoints");
      CheckpointSettings ck = CheckpointSettings.every(ckDir, 5);
      try (JavaSparkContext spark = new JavaSparkContext(conf)) {
        Sequential viaSpark = SparkTrainerTest.model();
        CompletableFuture<TrainingResult> job = CompletableFuture.supplyAsync(() -> SparkTrainer.fit(
            SparkTrainer.parallelize(spark, SparkTrainerTest.TRAIN, 2), viaSpark, SparkTrainerTest.config(), ResumeTest.C32,
            SparkTrainerTest.TEST, ck, null));
        // wait for a complete checkpoint, then kill one executor
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (ck.latestComplete(2) < 5 && !job.isDone()) {
          assertTrue(System.nanoTime() < deadline, "no checkpoint within 240 s; master log:\n" + tail(dir.resolve("master.log"))
              + "\nworker log:\n" + tail(dir.resolve("worker-0.log")));
          Thread.sleep(100);
        }
        List<ProcessHandle> execs = executors(procs.get(1), procs.get(2));
        assertEquals(2, execs.size(), "one executor JVM per worker: " + execs + "; descendants: "
            + procs.get(1).descendants().map(p -> p.pid() + " " + commandLine(p)).toList());
        long killedAfter = ck.latestComplete(2);
        ProcessHandle victim = execs.get(1);
        assertTrue(victim.destroyForcibly(), "SIGKILL sent"); // destroyForcibly is SIGKILL on Linux
        TrainingResult r = job.get(300, TimeUnit.SECONDS);
        System.out.printf("standalone cluster, 2 executors, one SIGKILLed after checkpoint %d: accuracy %.3f, last attempt "
            + "%d steps%n", killedAfter, r.epochs().getLast().evalAccuracy(), r.workers().getFirst().steps());
        assertTrue(killedAfter < 40 && r.workers().getFirst().steps() < 40, "the last attempt resumed instead of starting over: "
            + r.workers().getFirst().steps() + " steps");
        assertArrayEquals(straight.parameters(), viaSpark.parameters(), "the job ends with the uninterrupted run's model");
        assertTrue(r.epochs().getLast().evalAccuracy() >= 0.93, "accuracy " + r.epochs().getLast().evalAccuracy());
      }
    } finally {
      for (Process p : procs) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      for (Process p : procs) {
        p.waitFor(20, TimeUnit.SECONDS);
      }
    }
  }
}
