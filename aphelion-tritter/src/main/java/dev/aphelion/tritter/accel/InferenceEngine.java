package dev.aphelion.tritter.accel;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.error.BackendException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Sampler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Batched, multi-threaded inference on the {@link TritterAccelBackend}.
 *
 * <p>Work larger than {@link #maxBatchSize()} rows (or prompts) is split into batches of at most
 * that many; the batches run concurrently on the engine's {@link #threads()} worker threads, and
 * each batch runs as one matrix-matrix product per layer (the weights are read once per batch).
 * Results come back in input order. The backend comes from the {@link BackendRegistry} (the {@value
 * TritterAccelBackend#NAME} provider) unless one is given.
 *
 * <p>Thread-safe; close it to stop the worker threads (and the backend, if the engine opened it).
 */
public final class InferenceEngine implements AutoCloseable {

  /** Default maximum batch size (the Rust original's). */
  public static final int DEFAULT_MAX_BATCH = 32;

  private static final AtomicInteger IDS = new AtomicInteger();

  private final TritterAccelBackend backend;
  private final boolean ownsBackend;
  private final int maxBatch;
  private final int threads;
  private final ExecutorService workers;

  /** A batched function: {@code rows} input rows in, {@code rows} output rows out. */
  @FunctionalInterface
  public interface BatchFunction {
    /**
     * Applies the function.
     *
     * @param x row-major inputs
     * @param rows number of rows
     * @return row-major outputs, the same number of floats per row for every call
     */
    float[] apply(float[] x, int rows);
  }

  /**
   * Settings of {@link #generate}.
   *
   * @param maxNewTokens tokens to generate per prompt at most
   * @param topK 1 for greedy decoding, else sample among the k most likely tokens
   * @param temperature sampling temperature (ignored when greedy)
   * @param seed prompt {@code i} samples with seed {@code seed + i}, so results do not depend on
   *     batching or threads
   * @param stopToken a token that ends a sequence (included), or -1
   * @param kvStorage how the KV cache stores keys and values
   */
  public record GenerationConfig(int maxNewTokens, int topK, float temperature, long seed, int stopToken, KVCache.Storage kvStorage) {
    /** Validates the settings. */
    public GenerationConfig {
      Objects.requireNonNull(kvStorage, "kvStorage");
      if (maxNewTokens < 0) {
        throw new ConfigException("maxNewTokens must be >= 0, got " + maxNewTokens);
      }
      if (topK < 1) {
        throw new ConfigException("topK must be >= 1, got " + topK);
      }
    }

    /**
     * Greedy decoding with an f32 cache.
     *
     * @param maxNewTokens tokens to generate per prompt
     * @return the settings
     */
    public static GenerationConfig greedy(int maxNewTokens) {
      return new GenerationConfig(maxNewTokens, 1, 0f, 0L, -1, KVCache.Storage.FLOAT32);
    }
  }

  private InferenceEngine(TritterAccelBackend backend, boolean ownsBackend, int maxBatch, int threads) {
    this.backend = backend;
    this.ownsBackend = ownsBackend;
    this.maxBatch = maxBatch;
    this.threads = threads;
    int id = IDS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.workers = threads == 1 ? null : Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "aphelion-inference-" + id + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts a builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The backend the engine computes on. */
  public TritterAccelBackend backend() {
    return backend;
  }

  /** The largest batch run as one product. */
  public int maxBatchSize() {
    return maxBatch;
  }

  /** Worker threads that run batches concurrently. */
  public int threads() {
    return threads;
  }

  /**
   * Applies a batched function to any number of rows, split into batches of at most {@link
   * #maxBatchSize()} rows run concurrently.
   *
   * @param f the function
   * @param x {@code rows·inFeatures} inputs
   * @param rows number of rows, at least 1
   * @param inFeatures floats per input row
   * @return the outputs of all rows, in order
   * @throws ShapeException if {@code x} does not hold {@code rows·inFeatures} floats or the function
   *     returns rows of different widths
   */
  public float[] run(BatchFunction f, float[] x, int rows, int inFeatures) {
    Objects.requireNonNull(f, "f");
    backend.ensureOpen();
    if (rows < 1 || inFeatures < 1 || x.length != (long) rows * inFeatures) {
      throw new ShapeException("input has " + x.length + " floats, expected rows " + rows + " x " + inFeatures + " features");
    }
    int batches = (rows + maxBatch - 1) / maxBatch;
    List<float[]> outs = map(batches, b -> {
      int from = b * maxBatch;
      int n = Math.min(maxBatch, rows - from);
      return f.apply(Arrays.copyOfRange(x, from * inFeatures, (from + n) * inFeatures), n);
    });
    int width = -1;
    for (int b = 0; b < batches; b++) {
      int n = Math.min(maxBatch, rows - b * maxBatch);
      float[] o = outs.get(b);
      if (o.length % n != 0 || (width >= 0 && o.length / n != width)) {
        throw new ShapeException("batch " + b + " returned " + o.length + " floats for " + n + " rows");
      }
      width = o.length / n;
    }
    float[] out = new float[rows * width];
    int pos = 0;
    for (float[] o : outs) {
      System.arraycopy(o, 0, out, pos, o.length);
      pos += o.length;
    }
    return out;
  }

  /**
   * Generates continuations of many prompts. Prompts are grouped into batches of at most {@link
   * #maxBatchSize()}; each batch gets one {@link KVCache} with a sequence per prompt, feeds the
   * prompts, then decodes all unfinished sequences of the batch together, one token per step.
   *
   * @param model the model
   * @param prompts the prompts, each at least one token
   * @param config the settings
   * @return the generated tokens of each prompt, in order
   */
  public List<int[]> generate(DecoderModel model, List<int[]> prompts, GenerationConfig config) {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(config, "config");
    backend.ensureOpen();
    for (int i = 0; i < prompts.size(); i++) {
      if (prompts.get(i).length == 0) {
        throw new ShapeException("prompt " + i + " is empty");
      }
    }
    int batches = (prompts.size() + maxBatch - 1) / maxBatch;
    List<List<int[]>> parts = map(batches, b -> {
      int from = b * maxBatch;
      return generateBatch(model, prompts.subList(from, Math.min(prompts.size(), from + maxBatch)), from, config);
    });
    List<int[]> out = new ArrayList<>(prompts.size());
    parts.forEach(out::addAll);
    return out;
  }

  private static List<int[]> generateBatch(DecoderModel model, List<int[]> prompts, int firstIndex, GenerationConfig cfg) {
    int n = prompts.size();
    int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(1);
    KVCache cache = model.newCache(n, longest + Math.max(1, cfg.maxNewTokens()), KVCache.EvictionPolicy.ERROR, cfg.kvStorage());
    int vocab = model.config().vocabSize();
    Sampler[] samplers = new Sampler[n];
    int[][] out = new int[n][cfg.maxNewTokens()];
    int[] produced = new int[n];
    boolean[] done = new boolean[n];
    int[] next = new int[n];
    for (int s = 0; s < n; s++) {
      samplers[s] = cfg.topK() == 1 ? Sampler.greedy() : Sampler.topK(cfg.topK(), cfg.temperature(), cfg.seed() + firstIndex + s);
      if (cfg.maxNewTokens() == 0) {
        done[s] = true;
        continue;
      }
      float[] logits = model.forward(cache, s, prompts.get(s), false);
      next[s] = samplers[s].sample(logits, 0, vocab);
    }
    while (true) {
      int active = 0;
      for (int s = 0; s < n; s++) {
        if (!done[s]) {
          out[s][produced[s]++] = next[s];
          if (next[s] == cfg.stopToken() || produced[s] == cfg.maxNewTokens()) {
            done[s] = true;
          } else {
            active++;
          }
        }
      }
      if (active == 0) {
        break;
      }
      int[] seqs = new int[active];
      int[] toks = new int[active];
      int a = 0;
      for (int s = 0; s < n; s++) {
        if (!done[s]) {
          seqs[a] = s;
          toks[a++] = next[s];
        }
      }
      float[] logits = model.step(cache, seqs, toks);
      for (int i = 0; i < active; i++) {
        next[seqs[i]] = samplers[seqs[i]].sample(logits, i * vocab, vocab);
      }
    }
    List<int[]> result = new ArrayList<>(n);
    for (int s = 0; s < n; s++) {
      result.add(Arrays.copyOf(out[s], produced[s]));
    }
    return result;
  }

  @FunctionalInterface
  private interface Task<T> {
    T run(int index);
  }

  private <T> List<T> map(int count, Task<T> task) {
    List<T> out = new ArrayList<>(count);
    if (workers == null || count == 1) {
      for (int i = 0; i < count; i++) {
        out.add(task.run(i));
      }
      return out;
    }
    List<Future<T>> futures = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      final int idx = i;
      futures.add(workers.submit(() -> task.run(idx)));
    }
    for (Future<T> f : futures) {
      try {
        out.add(f.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        futures.forEach(x -> x.cancel(true));
        throw new BackendException("inference interrupted", e);
      } catch (ExecutionException e) {
        futures.forEach(x -> x.cancel(true));
        if (e.getCause() instanceof RuntimeException re) {
          throw re;
        }
        throw new BackendException("inference batch failed: " + e.getCause(), e.getCause());
      }
    }
    return out;
  }

  /** Stops the workers and closes the backend if the engine opened it. */
  @Override
  public void close() {
    if (workers != null) {
      workers.shutdownNow();
    }
    if (ownsBackend) {
      backend.close();
    }
  }

  @Override
  public String toString() {
    return "InferenceEngine[maxBatch=" + maxBatch + ", threads=" + threads + ", " + backend + "]";
  }

  /** Builder for {@link InferenceEngine}. */
  public static final class Builder {
    private Backend backend;
    private BackendRegistry registry;
    private int maxBatch = DEFAULT_MAX_BATCH;
    private int threads = -1;

    private Builder() {}

    /** Uses this backend (not closed by the engine); must be a {@link TritterAccelBackend}. */
    public Builder backend(Backend backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
      return this;
    }

    /** Opens the {@value TritterAccelBackend#NAME} backend from this registry; default {@link BackendRegistry#load()}. */
    public Builder registry(BackendRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The largest batch run as one product; default {@value InferenceEngine#DEFAULT_MAX_BATCH}. */
    public Builder maxBatchSize(int maxBatch) {
      this.maxBatch = maxBatch;
      return this;
    }

    /** Worker threads running batches concurrently; default: the backend's compute units, at most 4. */
    public Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    /**
     * Builds the engine.
     *
     * @throws ConfigException if a number is not positive
     * @throws BackendException if the backend is not the tritter CPU backend or is unavailable
     */
    public InferenceEngine build() {
      if (maxBatch < 1) {
        throw new ConfigException("maxBatchSize must be >= 1, got " + maxBatch);
      }
      if (threads == 0 || threads < -1) {
        throw new ConfigException("threads must be >= 1, got " + threads);
      }
      boolean owns = backend == null;
      Backend b = backend != null ? backend : (registry != null ? registry : BackendRegistry.load()).open(TritterAccelBackend.NAME);
      if (!(b instanceof TritterAccelBackend t)) {
        if (owns) {
          b.close();
        }
        throw new BackendException("InferenceEngine computes on the '" + TritterAccelBackend.NAME + "' backend, got '" + b.name() + "'");
      }
      int n = threads > 0 ? threads : Math.max(1, Math.min(4, t.capabilities().computeUnits()));
      return new InferenceEngine(t, owns, maxBatch, n);
    }
  }
}
