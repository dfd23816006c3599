package dev.aphelion.examples.fashion;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.io.AtomicFiles;
import dev.aphelion.core.pipeline.BuildContext;
import dev.aphelion.core.pipeline.BuildPipeline;
import dev.aphelion.core.pipeline.PipelineResult;
import dev.aphelion.core.pipeline.StageTiming;
import dev.aphelion.examples.fashion.nn.CompressedExchange;
import dev.aphelion.examples.fashion.nn.DataParallelTrainer;
import dev.aphelion.examples.fashion.nn.EpochStats;
import dev.aphelion.examples.fashion.nn.Float32Exchange;
import dev.aphelion.examples.fashion.nn.GradientExchange;
import dev.aphelion.examples.fashion.nn.Mlp;
import dev.aphelion.examples.fashion.nn.MlpLayout;
import dev.aphelion.examples.fashion.nn.Precision;
import dev.aphelion.examples.fashion.nn.TrainOptions;
import dev.aphelion.examples.fashion.nn.Worker;
import dev.aphelion.tritter.accel.AccelerationStage;
import dev.aphelion.tritter.accel.GradientCompressionHook;
import dev.aphelion.tritter.compress.CompressionConfig;
import dev.aphelion.tritter.compress.GradientEncoding;
import dev.aphelion.tritter.kernel.Vectorization;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Fashion-MNIST demo: loads the data, trains the ternary model with compressed gradient
 * exchange (and, unless skipped, the same model uncompressed and a float32 model), then writes
 * {@code summary.json} and {@code training.png}. {@code ./aphelion demo} runs it through
 * {@link dev.aphelion.examples.Demo}, which parses the {@link DemoOptions}.
 *
 * <p>Read it as a template for a training loop of your own: {@link #train} is the whole recipe
 * (a layout, a model, a gradient exchange, a {@link DataParallelTrainer}).
 */
public final class FashionDemo {
  /** The model's layer widths: 28×28 pixels in, two hidden layers, 10 classes out. */
  public static final int[] LAYERS = {784, 256, 128, 10};

  private final DemoOptions options;
  private final PrintStream out;

  /**
   * Creates the demo.
   *
   * @param options parsed options
   * @param out where to print progress and results
   */
  public FashionDemo(DemoOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /**
   * Runs the demo: loads the data, trains, measures and writes the outputs.
   *
   * @throws AphelionException with {@link ErrorCode#IO} when the data set is missing (naming the
   *     files and the command that installs them) or an output cannot be written
   */
  public void run() {
    long t0 = System.nanoTime();
    out.println("Aphelion demo: a ternary (BitNet b1.58) MLP on Fashion-MNIST");
    out.printf(Locale.ROOT, "  JDK %s, %d cores, kernels: %s%n",
        Runtime.version(), Runtime.getRuntime().availableProcessors(), Vectorization.get());
    long tl = System.nanoTime();
    FashionMnist.Split split = FashionMnist.load(options.data());
    LabeledImages train = options.trainLimit() > 0 && options.trainLimit() < split.train().count()
        ? split.train().head(options.trainLimit()) : split.train();
    LabeledImages test = split.test();
    out.printf(Locale.ROOT, "  data: %s: %,d training and %,d test images of %d×%d (%.1fs)%n",
        options.data(), train.count(), test.count(), train.rows(), train.cols(),
        (System.nanoTime() - tl) / 1e9);
    out.printf(Locale.ROOT, "  model: MLP %s, %,d parameters; %d epochs, batch %d, %d workers%n%n",
        java.util.Arrays.toString(LAYERS),
        new MlpLayout(LAYERS, Precision.TERNARY).parameterCount(), options.epochs(),
        options.batchSize(), options.workers());

    Builds builds = buildGraph();
    List<RunResult> runs = new ArrayList<>();
    runs.add(train("ternaryCompressed",
        "ternary, " + options.compressionLabel() + " gradients", Precision.TERNARY,
        exchange(builds), train, test));
    if (!options.skipBaselines()) {
      runs.add(train("ternary", "ternary, f32 gradients", Precision.TERNARY,
          new Float32Exchange(options.workers()), train, test));
      runs.add(train("float32", "float32 model", Precision.FLOAT32,
          new Float32Exchange(options.workers()), train, test));
    }

    Inference inference = measureInference(runs, test);
    builds = buildInference(builds, inference.batch());
    out.println();
    double seconds = (System.nanoTime() - t0) / 1e9;
    Map<String, Object> summary = summary(runs, builds, inference, seconds);
    writeOutputs(summary, runs);
    printResults(runs, seconds);
  }

  /**
   * Trains one model: the template for a training loop of your own.
   *
   * @param key the run's key in the summary
   * @param label the run's display name
   * @param precision ternary or float32
   * @param exchange how the workers combine gradients
   * @param train training examples
   * @param test evaluation examples
   * @return the trained model and its numbers
   */
  public RunResult train(
      String key, String label, Precision precision, GradientExchange exchange,
      LabeledImages train, LabeledImages test) {
    out.println(label + ":");
    Mlp model = new Mlp(new MlpLayout(LAYERS, precision), options.seed());
    TrainOptions opts = new TrainOptions(
        options.epochs(), options.batchSize(), options.learningRate(), 100, 0f,
        options.workers(), options.seed());
    ConsoleProgress progress = new ConsoleProgress(
        label, options.epochs(), out, ConsoleProgress.stdoutIsTerminal());
    List<EpochStats> history;
    try (DataParallelTrainer trainer = new DataParallelTrainer(model, opts, exchange)) {
      history = trainer.fit(train, test, progress);
    }
    double seconds = history.stream().mapToDouble(EpochStats::seconds).sum();
    RunResult r = new RunResult(key, label, model, history, exchange.name(),
        exchange.wireBytes(), exchange.float32Bytes(), seconds);
    out.printf(Locale.ROOT, "  -> test accuracy %.2f%%, gradient traffic %s (%.1fx less than"
            + " float32), %.1fs%n%n",
        100 * r.testAccuracy(), bytes(r.wireBytes()), r.wireRatio(), seconds);
    return r;
  }

  /**
   * The gradient exchange for the training settings the pipeline recorded: plain float32 for a
   * compression ratio of 1, otherwise the compressors the {@link GradientCompressionHook}
   * published, one per worker, each with its own error-feedback residual.
   */
  private GradientExchange exchange(Builds builds) {
    if (builds.mode().compressionRatio() == 1) {
      return new Float32Exchange(options.workers());
    }
    return new CompressedExchange(builds.compressors().forWorkers(
        new MlpLayout(LAYERS, Precision.TERNARY).parameterCount(), options.workers()));
  }

  /**
   * The training and inference builds of the model graph.
   *
   * @param training the training pipeline's result (its graph records the compression settings)
   * @param mode the training settings the acceleration stage put into the build context
   * @param compressors the per-worker gradient compressors the compression hook published
   * @param inference the inference pipeline's result ({@code linear} nodes turned
   *     {@code ternary_linear}), or null before it ran
   */
  public record Builds(
      PipelineResult training, AccelerationStage.Training mode,
      GradientCompressionHook.CompressorFactory compressors, PipelineResult inference) {}

  /**
   * Describes the model as a {@link BuildGraph} and runs the training pipeline over it on the
   * default backend ({@code -Daphelion.backend=NAME} picks another): the standard stages plus the
   * {@link AccelerationStage} in training mode, which records the gradient compression settings
   * in the graph (so they change its digest) and in the build context, and the
   * {@link GradientCompressionHook}, which checks that the graph agrees with its settings and
   * publishes the per-worker compressors the trainer uses.
   *
   * @return the pipeline's result and the training settings
   */
  public Builds buildGraph() {
    BuildGraph graph = ModelGraph.describe(new MlpLayout(LAYERS, Precision.TERNARY), "fashion-mnist");
    BackendRegistry.Selection selection = BackendRegistry.load().defaultSelection();
    try (Backend backend = selection.provider().create()) {
      CompressionConfig compression = CompressionConfig.builder()
          .compressionFactor(options.compression())
          .encoding(options.encoding())
          .sketchRows(options.sketchRows())
          .seed(options.seed())
          .errorFeedback(true)
          .build();
      BuildPipeline pipeline = BuildPipeline.training().toBuilder()
          .addStageBefore("hashing", AccelerationStage.training(
              compression.compressionRatio(), options.seed(), false))
          .hook(new GradientCompressionHook(compression))
          .build();
      BuildContext ctx = BuildContext.of(backend);
      PipelineResult result = pipeline.execute(ctx, graph);
      AccelerationStage.Training mode =
          (AccelerationStage.Training) ctx.require(AccelerationStage.MODE_KEY);
      out.printf(Locale.ROOT, "  graph: %d nodes, %d edges; pipeline '%s' on backend '%s':",
          result.graph().nodeCount(), result.graph().edgeCount(), pipeline.name(),
          backend.name());
      for (StageTiming t : result.timings()) {
        out.printf(Locale.ROOT, " %s %.1f ms,", t.stage(), t.duration().toNanos() / 1e6);
      }
      out.println();
      out.println("  training graph digest:  " + result.digest().hex());
      out.println();
      return new Builds(result, mode, ctx.require(GradientCompressionHook.COMPRESSORS), null);
    }
  }

  /**
   * Runs the inference pipeline (the {@link AccelerationStage} in inference mode) over the
   * trained graph.
   *
   * @param builds the training build
   * @param batch the inference batch size
   * @return the builds with the inference result
   */
  public Builds buildInference(Builds builds, int batch) {
    try (Backend backend = BackendRegistry.load().openDefault()) {
      BuildPipeline pipeline = BuildPipeline.inference().toBuilder()
          .addStageBefore("hashing", AccelerationStage.inference(batch))
          .build();
      PipelineResult result = pipeline.execute(BuildContext.of(backend), builds.training().graph());
      long ternary = result.graph().nodes().stream()
          .filter(n -> n.opType().equals(AccelerationStage.OP_TERNARY_LINEAR)).count();
      out.println("  inference graph digest: " + result.digest().hex() + " (" + ternary
          + " ternary_linear nodes)");
      return new Builds(builds.training(), builds.mode(), builds.compressors(), result);
    }
  }

  /**
   * What packing the trained models gave.
   *
   * @param ternaryAccuracy test accuracy of the packed ternary model
   * @param float32Accuracy test accuracy of the float32 model run on library layers (NaN if the
   *     float32 run was skipped)
   * @param ternaryImagesPerSecond throughput of the packed ternary model
   * @param float32ImagesPerSecond throughput of the float32 model
   * @param ternaryWeightBytes packed weights and scales
   * @param float32WeightBytes the same weights as float32
   * @param otherParameterBytes biases and norm gains (float32 in both)
   * @param batch images per forward call while measuring
   * @param float32GemmImagesPerSecond the float32 model on the trainer's own blocked GEMM, one
   *     thread: a reference for how fast float32 can be here
   */
  public record Inference(
      double ternaryAccuracy, double float32Accuracy, double ternaryImagesPerSecond,
      double float32ImagesPerSecond, long ternaryWeightBytes, long float32WeightBytes,
      long otherParameterBytes, int batch, double float32GemmImagesPerSecond) {}

  /**
   * Packs the compressed-gradient ternary model into {@code TernaryLayer}s (and the float32 model,
   * if trained, into {@code DenseLayer}s), checks their test accuracy and measures throughput.
   *
   * @param runs the finished runs, the compressed ternary one first
   * @param test the test images
   * @return the measurements
   */
  public Inference measureInference(List<RunResult> runs, LabeledImages test) {
    final int batch = 256;
    out.println("inference with the library's layers (batch " + batch + "):");
    PackedMlp ternary = PackedMlp.of(runs.getFirst().model());
    RunResult f32Run = runs.stream().filter(r -> r.key().equals("float32")).findFirst().orElse(null);
    // without a trained float32 model, time float32 layers holding the ternary model's latent weights
    Mlp f32Model = f32Run != null ? f32Run.model() : asFloat32(runs.getFirst().model());
    PackedMlp float32 = PackedMlp.of(f32Model);
    double ternaryAcc = ternary.accuracy(test, batch);
    double f32Acc = f32Run != null ? float32.accuracy(test, batch) : Double.NaN;
    double ternaryIps = ternary.imagesPerSecond(test, batch, 2.0);
    double f32Ips = float32.imagesPerSecond(test, batch, 2.0);
    double gemmIps = trainerForwardImagesPerSecond(f32Model, test, batch, 2.0);
    Inference r = new Inference(ternaryAcc, f32Acc, ternaryIps, f32Ips, ternary.weightBytes(),
        float32.weightBytes(), ternary.otherParameterBytes(), batch, gemmIps);
    out.printf(Locale.ROOT, "  ternary (TernaryLayer, int8 activations): accuracy %.2f%%, %,.0f images/s,"
            + " weights %s%n",
        100 * ternaryAcc, ternaryIps, bytes(r.ternaryWeightBytes()));
    out.printf(Locale.ROOT, "  float32 (DenseLayer):                     accuracy %s, %,.0f images/s,"
            + " weights %s%n",
        f32Run != null ? String.format(Locale.ROOT, "%.2f%%", 100 * f32Acc) : "(not trained)",
        f32Ips, bytes(r.float32WeightBytes()));
    out.printf(Locale.ROOT, "  float32 (the trainer's blocked GEMM, 1 thread):          %,.0f images/s%n",
        gemmIps);
    out.printf(Locale.ROOT, "  -> %.1fx less weight memory; ternary runs at %.2fx DenseLayer's and"
            + " %.2fx the trainer GEMM's float32 throughput%n%n",
        (double) r.float32WeightBytes() / r.ternaryWeightBytes(), ternaryIps / f32Ips,
        ternaryIps / gemmIps);
    return r;
  }

  /** Images per second of a float32 model's forward pass on the trainer's {@code Gemm}. */
  private static double trainerForwardImagesPerSecond(
      Mlp model, LabeledImages data, int batch, double minSeconds) {
    Worker worker = new Worker(model.layout(), batch);
    Mlp.Snapshot snap = model.snapshot();
    float[] logits = new float[batch * model.layout().outputs()];
    Runnable pass = () -> {
      for (int s = 0; s < data.count(); s += batch) {
        worker.logits(model, snap, data.pixels(), s * data.features(),
            Math.min(batch, data.count() - s), logits);
      }
    };
    long w0 = System.nanoTime();
    do {
      pass.run();
    } while (System.nanoTime() - w0 < minSeconds * 0.5e9);
    long images = 0;
    long t0 = System.nanoTime();
    long t;
    do {
      pass.run();
      images += data.count();
      t = System.nanoTime();
    } while (t - t0 < minSeconds * 1e9);
    return images / ((t - t0) / 1e9);
  }

  private static Mlp asFloat32(Mlp ternary) {
    Mlp m = new Mlp(new MlpLayout(ternary.layout().sizes(), Precision.FLOAT32), 0);
    m.load(ternary.parameters());
    return m;
  }

  private Map<String, Object> summary(
      List<RunResult> runs, Builds builds, Inference inf, double seconds) {
    Map<String, Object> accuracy = new LinkedHashMap<>();
    for (String k : List.of("float32", "ternary", "ternaryCompressed")) {
      accuracy.put(k, runs.stream().filter(r -> r.key().equals(k)).findFirst()
          .map(RunResult::testAccuracy).orElse(null));
    }
    RunResult main = runs.getFirst();
    Map<String, Object> compression = new LinkedHashMap<>();
    compression.put("requestedRatio", options.compression());
    compression.put("encoding", DemoOptions.encodingName(options.encoding()));
    if (options.encoding() == GradientEncoding.COUNT_SKETCH) {
      compression.put("sketchRows", options.sketchRows());
    }
    compression.put("wireRatio", main.wireRatio());
    compression.put("float32GradientBytes", main.float32Bytes());
    compression.put("wireBytes", main.wireBytes());
    compression.put("exchange", main.exchange());
    compression.put("errorFeedback", options.compression() != 1);

    Map<String, Object> training = new LinkedHashMap<>();
    training.put("layers", LAYERS);
    training.put("epochs", options.epochs());
    training.put("batchSize", options.batchSize());
    training.put("learningRate", options.learningRate());
    training.put("workers", options.workers());
    training.put("trainImages", options.trainLimit() > 0 ? options.trainLimit() : 60_000);
    Map<String, Object> perRun = new LinkedHashMap<>();
    for (RunResult r : runs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("label", r.label());
      m.put("seconds", r.seconds());
      m.put("epochs", r.epochs());
      perRun.put(r.key(), m);
    }
    training.put("runs", perRun);

    Map<String, Object> s = new LinkedHashMap<>();
    s.put("accuracy", accuracy);
    s.put("compression", compression);
    Map<String, Object> inference = new LinkedHashMap<>();
    inference.put("ternaryImagesPerSecond", inf.ternaryImagesPerSecond());
    inference.put("float32ImagesPerSecond", inf.float32ImagesPerSecond());
    inference.put("float32GemmOneThreadImagesPerSecond", inf.float32GemmImagesPerSecond());
    inference.put("speedup", inf.ternaryImagesPerSecond() / inf.float32ImagesPerSecond());
    inference.put("batch", inf.batch());
    inference.put("ternaryPackedAccuracy", inf.ternaryAccuracy());
    inference.put("float32LayersAccuracy",
        Double.isNaN(inf.float32Accuracy()) ? null : inf.float32Accuracy());
    Map<String, Object> memory = new LinkedHashMap<>();
    memory.put("ternaryWeightBytes", inf.ternaryWeightBytes());
    memory.put("float32WeightBytes", inf.float32WeightBytes());
    memory.put("ratio", (double) inf.float32WeightBytes() / inf.ternaryWeightBytes());
    memory.put("otherParameterBytes", inf.otherParameterBytes());
    s.put("inference", inference);
    s.put("memory", memory);
    s.put("seconds", seconds);
    Map<String, Object> graph = new LinkedHashMap<>();
    graph.put("digest", builds.training().digest().hex());
    graph.put("inferenceDigest", builds.inference().digest().hex());
    graph.put("nodes", builds.training().graph().nodeCount());
    graph.put("edges", builds.training().graph().edgeCount());
    graph.put("trainingStages", builds.training().stagesRun());
    graph.put("inferenceStages", builds.inference().stagesRun());
    s.put("graph", graph);
    s.put("training", training);
    s.put("machine", Map.of(
        "cores", Runtime.getRuntime().availableProcessors(),
        "jdk", Runtime.version().toString(),
        "kernels", Vectorization.get().toString()));
    s.put("date", Instant.now().toString());
    return s;
  }

  private void writeOutputs(Map<String, Object> summary, List<RunResult> runs) {
    List<TrainingChart.Series> series = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      RunResult r = runs.get(i);
      series.add(new TrainingChart.Series(r.label(), TrainingChart.PALETTE.get(i), r.epochs()));
    }
    String title = "Fashion-MNIST, MLP " + java.util.Arrays.toString(LAYERS) + ", " + options.workers()
        + " data-parallel workers";
    writeOutputs(options.out(), summary, title, series);
    out.println("wrote " + options.out().resolve(SUMMARY) + " and " + options.out().resolve(CHART));
  }

  static final String SUMMARY = "summary.json";
  static final String CHART = "training.png";

  /**
   * Writes {@code training.png} and then {@code summary.json}, each replaced atomically. The
   * summary goes last and names the chart's SHA-256, so a kill never leaves a new summary beside
   * an old chart, and a new chart beside an old summary is detectable.
   */
  static void writeOutputs(Path dir, Map<String, Object> summary, String title, List<TrainingChart.Series> series) {
    byte[] chart = TrainingChart.png(title, series);
    Map<String, Object> withChart = new LinkedHashMap<>(summary);
    withChart.put("chart", Map.of("file", CHART, "sha256", sha256(chart)));
    try {
      Files.createDirectories(dir);
      byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(withChart);
      AtomicFiles.write(dir.resolve(CHART), chart);
      AtomicFiles.write(dir.resolve(SUMMARY), json);
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot write to " + dir + ": " + e, e);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JDK", e);
    }
  }

  private void printResults(List<RunResult> runs, double seconds) {
    out.println();
    out.println("run                              test accuracy   gradient bytes on the wire");
    for (RunResult r : runs) {
      out.printf(Locale.ROOT, "  %-30s %8.2f%%       %s (%.1fx less than float32)%n",
          r.label(), 100 * r.testAccuracy(), bytes(r.wireBytes()), r.wireRatio());
    }
    out.printf(Locale.ROOT, "total %.1fs%n", seconds);
  }

  static String bytes(long b) {
    if (b >= 1L << 30) {
      return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
    }
    if (b >= 1L << 20) {
      return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
    }
    if (b >= 1L << 10) {
      return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
    }
    return b + " B";
  }
}
