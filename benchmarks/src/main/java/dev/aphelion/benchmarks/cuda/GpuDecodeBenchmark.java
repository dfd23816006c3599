package dev.aphelion.benchmarks.cuda;

import dev.aphelion.benchmarks.BitNet2B4TBenchmark;
import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.core.io.AtomicFiles;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Decode throughput of the BitNet b1.58 2B4T-shaped model (random ternary weights, batch 1) on a
 * backend chosen by name: the same {@link DecoderModel} code the CPU runs, bound with {@code
 * on(backend)}. A prompt fills the KV cache to {@code --context} tokens, then {@code --tokens}
 * greedy decode steps are timed on the host clock (each step writes the token and position,
 * replays the recorded step, reads the logits back and takes the argmax), after {@code --warmup}
 * untimed steps.
 *
 * <pre>{@code
 * bash .device/run.sh main dev.aphelion.benchmarks.cuda.GpuDecodeBenchmark --backend cuda --context 512 --tokens 128
 * }</pre>
 */
public final class GpuDecodeBenchmark {

  private GpuDecodeBenchmark() {}

  /**
   * Runs the benchmark.
   *
   * @param args {@code --backend NAME --context N --tokens N --warmup N --json FILE}
   */
  public static void main(String[] args) {
    String backendName = "cuda";
    int context = 512;
    int tokens = 128;
    int warmup = 8;
    Path json = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--backend" -> backendName = args[++i];
        case "--context" -> context = Integer.parseInt(args[++i]);
        case "--tokens" -> tokens = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--json" -> json = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (context <= warmup) {
      throw new IllegalArgumentException("--context must exceed --warmup");
    }
    DecoderConfig c = BitNet2B4TBenchmark.config();
    long t0 = System.nanoTime();
    DecoderModel cpu = DecoderModel.fromWeights(c, Precision.TERNARY, BitNet2B4TBenchmark.randomTernary(2026), true);
    double buildS = (System.nanoTime() - t0) / 1e9;
    try (Backend backend = BackendRegistry.load().open(backendName)) {
      long t1 = System.nanoTime();
      try (DecoderModel model = cpu.on(backend)) {
        double uploadS = (System.nanoTime() - t1) / 1e9;
        System.out.printf(Locale.ROOT, "backend %s: %s%nmodel %s, %,d weight bytes (projections %,d), built in %.1f s, bound in %.1f s%n",
            backend.name(), backend.capabilities().summary(), c, model.weightMemoryBytes(), model.projectionMemoryBytes(), buildS,
            uploadS);
        KVCache cache = model.newCache(1, context + tokens + 1, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
        SplittableRandom r = new SplittableRandom(7);
        int[] prompt = new int[context - warmup];
        for (int i = 0; i < prompt.length; i++) {
          prompt[i] = r.nextInt(c.vocabSize());
        }
        long p0 = System.nanoTime();
        float[] logits = model.forward(cache, 0, prompt, false);
        double prefillS = (System.nanoTime() - p0) / 1e9;
        System.out.printf(Locale.ROOT, "prefill of %d tokens: %.3f s%n", prompt.length, prefillS);
        int t = argmax(logits);
        for (int i = 0; i < warmup; i++) {
          long w0 = System.nanoTime();
          t = argmax(model.forward(cache, 0, new int[] {t}, false));
          System.out.printf(Locale.ROOT, "warm-up step %d: %.3f ms%n", i, (System.nanoTime() - w0) / 1e6);
        }
        int[] out = new int[tokens];
        long d0 = System.nanoTime();
        for (int i = 0; i < tokens; i++) {
          t = argmax(model.forward(cache, 0, new int[] {t}, false));
          out[i] = t;
        }
        double decodeS = (System.nanoTime() - d0) / 1e9;
        double tps = tokens / decodeS;
        // Bytes a step must read at least: projections and the int8 head once, and the KV cache.
        long kvBytes = 2L * c.numLayers() * c.kvSize() * 4L * (context + tokens / 2);
        long stepBytes = model.projectionMemoryBytes() + (long) c.vocabSize() * c.hiddenSize() + kvBytes;
        Object peak = backend.capabilities().attributes().get("peakMemoryBandwidthGBps");
        double gbps = stepBytes * tps / 1e9;
        String line = String.format(Locale.ROOT,
            "{\"impl\":\"aphelion-%s\",\"date\":\"%s\",\"context\":%d,\"tokens\":%d,\"prefill_tokens\":%d,\"prefill_s\":%.4f,"
                + "\"decode_tokens_per_s\":%.1f,\"ms_per_token\":%.4f,\"bytes_per_step\":%d,\"effective_GBps\":%.0f,"
                + "\"peak_GBps\":%s,\"first_tokens\":\"%s\"}",
            backend.name(), Instant.now(), context, tokens, prompt.length, prefillS, tps, 1000.0 / tps, stepBytes, gbps, peak,
            Arrays.toString(Arrays.copyOf(out, Math.min(8, out.length))));
        System.out.println(line);
        if (json != null) {
          AtomicFiles.write(json, (line + "\n").getBytes(StandardCharsets.UTF_8));
        }
      }
    }
  }

  static int argmax(float[] l) {
    int best = 0;
    for (int i = 1; i < l.length; i++) {
      if (l[i] > l[best]) {
        best = i;
      }
    }
    return best;
  }
}
