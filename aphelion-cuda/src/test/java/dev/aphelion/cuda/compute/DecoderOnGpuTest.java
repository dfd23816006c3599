package dev.aphelion.cuda.compute;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.backend.Backend;
import dev.aphelion.core.backend.BackendRegistry;
import dev.aphelion.cuda.driver.CudaDriver;
import dev.aphelion.tritter.compute.ComputeOps;
import dev.aphelion.tritter.io.WeightSource;
import dev.aphelion.tritter.model.DecoderConfig;
import dev.aphelion.tritter.model.DecoderModel;
import dev.aphelion.tritter.model.FfnActivation;
import dev.aphelion.tritter.model.Generation;
import dev.aphelion.tritter.model.KVCache;
import dev.aphelion.tritter.model.Precision;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same {@link DecoderModel} on the cuda backend against the CPU: prefill, decode steps (the
 * replayed CUDA graph) and multi-sequence steps. Dense models must agree within {@code 1e-3 ·
 * max(1, max|logit|)} on every logit (measured on the H200: within {@code 3e-6}). Ternary models
 * quantize activations to int8, and a last-bit difference upstream (expf, a reduction order) can
 * round one activation the other way; that moves the logits of its row, and of later positions
 * that attend to it, by up to about 1% of the largest. {@code
 * BackendDecoderTest.decodeStepsUnderLastBitNoiseStayWithinTheGpuBound} runs this test's call
 * sequence on the CPU alone with one or two ulps of noise: it moves exactly what the H200 run
 * moved (prefill 1723 of 21070 logits, decode step 3 194 of 301), worst 0.63% of the largest.
 * The one-kernel attention (its value sums split over four warps) moved more on an H100 on
 * 2026-12-06: prefill of {@code bitnet-like} 2108 of 21070 logits, worst 1.2% of the largest,
 * while every operation stayed within {@code 1e-4} on identical inputs (the lockstep test below).
 * So a whole ternary call is held to {@code 2e-2 · max(1, max|logit|)} only, and {@link
 * #everyOperationAgreesWithTheCpuOnTheSameInputs} checks each operation of the decoder with the
 * int8 inputs made identical: there the integer paths must be exact and the others within
 * {@code 1e-4} of the largest value. The differences are printed.
 */
class DecoderOnGpuTest {

  @BeforeEach
  void gpu() {
    CudaDriver.Probe p = CudaDriver.probe();
    Assumptions.assumeTrue(p.available(), () -> "skipped, no usable CUDA device: " + p.reason());
  }

  static Stream<Arguments> cases() {
    DecoderConfig base = DecoderConfig.builder().vocabSize(301).hiddenSize(128).numLayers(3).numHeads(4).numKvHeads(2)
        .ffnSize(344).activation(FfnActivation.SQUARED_RELU).ropeTheta(500000f).build();
    return Stream.of(
        Arguments.of("bitnet-like", base, Precision.TERNARY, true),
        Arguments.of("bitnet-like-dense", base, Precision.DENSE_F32, true),
        Arguments.of("llama-like-untied", base.toBuilder().activation(FfnActivation.SWIGLU).tiedEmbeddings(false).numKvHeads(4)
            .build(), Precision.TERNARY, false),
        Arguments.of("odd-sizes", DecoderConfig.builder().vocabSize(97).hiddenSize(24).numLayers(2).numHeads(6).numKvHeads(3)
            .ffnSize(35).build(), Precision.TERNARY, true));
  }

  static WeightSource weights(long seed, boolean subNorms) {
    WeightSource r = DecoderModel.randomWeights(seed);
    return new WeightSource() {
      @Override
      public float[] floats(String name, long... shape) {
        return r.floats(name, shape);
      }

      @Override
      public boolean contains(String name) {
        return !name.endsWith(".bias") && (subNorms || !name.endsWith("_sub_norm.weight"));
      }
    };
  }

  static void assertClose(float[] cpu, float[] gpu, String what, boolean int8) {
    assertEquals(cpu.length, gpu.length);
    float max = 1f;
    for (float v : cpu) {
      max = Math.max(max, Math.abs(v));
    }
    int over = 0;
    double worst = 0;
    for (int i = 0; i < cpu.length; i++) {
      double d = Math.abs(cpu[i] - gpu[i]);
      assertTrue(Float.isFinite(gpu[i]), what + ": logit " + i + " is " + gpu[i]);
      worst = Math.max(worst, d);
      if (d > 1e-3 * max) {
        over++;
      }
    }
    System.out.printf(java.util.Locale.ROOT, "gpu vs cpu %s: max|logit| %.3f, worst difference %.3g, %d of %d beyond 1e-3 of it%n",
        what, max, worst, over, cpu.length);
    assertTrue(int8 ? worst <= 2e-2 * max : over == 0, what + ": " + over + " of " + cpu.length + " logits beyond "
        + 1e-3 * max + " (worst " + worst + (int8 ? ", bound " + 2e-2 * max : "") + ")");
  }

  static int argmax(float[] l, int off, int n) {
    int best = off;
    for (int i = off; i < off + n; i++) {
      if (l[i] > l[best]) {
        best = i;
      }
    }
    return best - off;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void prefillStepsAndBatchesAgreeWithTheCpu(String name, DecoderConfig config, Precision precision, boolean subNorms) {
    DecoderModel cpu = DecoderModel.fromWeights(config, precision, weights(5, subNorms));
    try (Backend cuda = BackendRegistry.load().open("cuda"); DecoderModel gpu = cpu.on(cuda)) {
      assertEquals("cuda", gpu.backendName());
      KVCache a = cpu.newCache(3, 80, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
      KVCache b = gpu.newCache(3, 80, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
      int v = config.vocabSize();
      int[] prompt = new int[70];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = (i * 37 + 11) % v;
      }
      boolean q8 = precision == Precision.TERNARY;
      assertClose(cpu.forward(a, 0, prompt, true), gpu.forward(b, 0, prompt, true), name + " prefill of 70", q8);
      assertClose(cpu.forward(a, 1, new int[] {5, 6, 7}, false), gpu.forward(b, 1, new int[] {5, 6, 7}, false),
          name + " prefill of 3", q8);
      int t = 1;
      for (int i = 0; i < 8; i++) {
        float[] lc = cpu.forward(a, 0, new int[] {t}, false);
        float[] lg = gpu.forward(b, 0, new int[] {t}, false);
        assertClose(lc, lg, name + " decode step " + i, q8);
        t = argmax(lc, 0, v);
        assertClose(cpu.step(a, new int[] {2, 1}, new int[] {t, i}), gpu.step(b, new int[] {2, 1}, new int[] {t, i}),
            name + " batch step " + i, q8);
      }
    }
  }

  /**
   * ComputeOps that run every call on the CPU and on the GPU. After each call, the output it wrote
   * is read from both: exact operations must give the same bits, the others ({@code inexact})
   * must stay within {@code 1e-4 · max(1, max|cpu|)}, and then the CPU's values are written to
   * the GPU, so the next operation (above all the next int8 quantization) sees identical inputs.
   * Recorded work runs directly each time (a graph replay cannot be intercepted; the replayed
   * graph is what the other tests check).
   */
  static final class Lockstep implements java.lang.reflect.InvocationHandler {
    final ComputeOps cpu;
    final ComputeOps gpu;
    final java.util.Map<Object, Object[]> pairs = new java.util.IdentityHashMap<>();
    final java.util.Map<String, double[]> worst = new java.util.TreeMap<>();

    Lockstep(ComputeOps cpu, ComputeOps gpu) {
      this.cpu = cpu;
      this.gpu = gpu;
    }

    ComputeOps ops() {
      return (ComputeOps) java.lang.reflect.Proxy.newProxyInstance(ComputeOps.class.getClassLoader(),
          new Class<?>[] {ComputeOps.class}, this);
    }

    private Object side(Object a, int i) {
      if (a instanceof Object[] arr && arr.getClass().getComponentType() != Object.class) {
        Object[] out = (Object[]) java.lang.reflect.Array.newInstance(arr.getClass().getComponentType(), arr.length);
        for (int j = 0; j < arr.length; j++) {
          out[j] = side(arr[j], i);
        }
        return out;
      }
      Object[] p = a == null ? null : pairs.get(a);
      return p == null ? a : p[i];
    }

    private static Object call(ComputeOps ops, java.lang.reflect.Method m, Object[] a) throws Throwable {
      try {
        return m.invoke(ops, a);
      } catch (java.lang.reflect.InvocationTargetException e) {
        throw e.getCause();
      }
    }

    /** Outputs (Activations and their rows) of one call, with whether the GPU must match exactly. */
    private record Out(Object handle, int rows, boolean exact, double bound) {
      Out(Object handle, int rows, boolean exact) {
        this(handle, rows, exact, 1e-4);
      }
    }

    private static java.util.List<Out> outputs(String name, Object[] a) {
      return switch (name) {
        case "embed" -> java.util.List.of(new Out(a[3], (Integer) a[2], true));
        case "logits" -> java.util.List.of(new Out(a[3], (Integer) a[2], false));
        case "rmsNorm" -> java.util.List.of(new Out(a[4], (Integer) a[3], false));
        case "rope" -> java.util.List.of(new Out(a[0], (Integer) a[1], true));
        case "attend" -> java.util.List.of(new Out(a[10], (Integer) a[5], false));
        case "ropeAttend" -> java.util.List.of(new Out(a[3], (Integer) a[6], true), new Out(a[4], (Integer) a[6], true),
            new Out(a[11], (Integer) a[6], false));
        case "project" -> {
          java.util.List<Out> o = new java.util.ArrayList<>();
          for (Object y : (Object[]) a[4]) {
            o.add(new Out(y, (Integer) a[1], true));
          }
          if (a[5] != null) {
            o.add(new Out(a[5], (Integer) a[1], true));
          }
          yield o;
        }
        // The norm's factor may differ in its last bit (another summation order), which can flip
        // an int8 rounding: one flip moves an output by x's scale times w's, below 2e-3 here.
        case "normProject" -> {
          java.util.List<Out> o = new java.util.ArrayList<>();
          for (Object y : (Object[]) a[7]) {
            o.add(new Out(y, (Integer) a[4], false, 2e-3));
          }
          if (a[8] != null) {
            o.add(new Out(a[8], (Integer) a[4], false, 2e-3));
          }
          yield o;
        }
        case "add" -> java.util.List.of(new Out(a[0], (Integer) a[2], true));
        case "gated" -> java.util.List.of(new Out(a[1], (Integer) a[3], a[0] == ComputeOps.GatedActivation.SQUARED_RELU));
        case "copyRows" -> java.util.List.of(new Out(a[2], (Integer) a[4], true));
        // int8 rows times ternary weights are exact, f32 activations times dense weights are not
        case "matmul" -> java.util.List.of(new Out(a[3], (Integer) a[2], a[1] instanceof ComputeOps.QuantizedRows));
        default -> java.util.List.of();
      };
    }

    @Override
    public Object invoke(Object proxy, java.lang.reflect.Method m, Object[] a) throws Throwable {
      String name = m.getName();
      if (name.equals("record")) {
        Runnable work = (Runnable) a[0];
        ComputeOps.Replay r = new ComputeOps.Replay() {
          @Override
          public void run() {
            work.run();
          }

          @Override
          public void close() {}
        };
        return r;
      }
      if (name.equals("close") || name.equals("backendName")) {
        call(gpu, m, a);
        return call(cpu, m, a);
      }
      Object[] ac = a == null ? null : a.clone();
      Object[] ag = a == null ? null : a.clone();
      for (int i = 0; a != null && i < a.length; i++) {
        ac[i] = side(a[i], 0);
        ag[i] = side(a[i], 1);
      }
      Object rc = call(cpu, m, ac);
      Object rg = call(gpu, m, ag);
      if (rc instanceof ComputeOps.Handle) {
        pairs.put(rc, new Object[] {rc, rg});
        return rc;
      }
      for (Out o : outputs(name, a)) {
        ComputeOps.Activations hc = (ComputeOps.Activations) side(o.handle, 0);
        ComputeOps.Activations hg = (ComputeOps.Activations) side(o.handle, 1);
        int n = o.rows * hc.cols();
        float[] vc = new float[n];
        float[] vg = new float[n];
        cpu.read(hc, vc, o.rows);
        gpu.read(hg, vg, o.rows);
        float max = 1f;
        for (float v : vc) {
          max = Math.max(max, Math.abs(v));
        }
        double d = 0;
        for (int i = 0; i < n; i++) {
          if (o.exact) {
            assertEquals(Float.floatToIntBits(vc[i]), Float.floatToIntBits(vg[i]),
                () -> name + " must be exact: " + java.util.Arrays.toString(java.util.Arrays.copyOf(vc, Math.min(n, 8))) + " vs "
                    + java.util.Arrays.toString(java.util.Arrays.copyOf(vg, Math.min(n, 8))));
          }
          assertTrue(Float.isFinite(vg[i]), name + ": " + vg[i]);
          d = Math.max(d, Math.abs(vc[i] - vg[i]) / max);
        }
        double[] w = worst.computeIfAbsent(name + (o.exact ? " (exact)" : ""), k -> new double[1]);
        w[0] = Math.max(w[0], d);
        assertTrue(d <= o.bound, name + ": worst difference " + d + " of the largest value, bound " + o.bound);
        if (!o.exact) {
          gpu.write(hg, vc, o.rows);
        }
      }
      return rc;
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everyOperationAgreesWithTheCpuOnTheSameInputs(String name, DecoderConfig config, Precision precision, boolean subNorms) {
    DecoderModel cpu = DecoderModel.fromWeights(config, precision, weights(5, subNorms));
    try (Backend cuda = BackendRegistry.load().open("cuda");
        ComputeOps gpuOps = cuda.operations(ComputeOps.class).orElseThrow();
        ComputeOps cpuOps = new dev.aphelion.tritter.model.CpuComputeOps("cpu")) {
      Lockstep lock = new Lockstep(cpuOps, gpuOps);
      DecoderModel both = cpu.on(lock.ops());
      KVCache c = both.newCache(3, 80, KVCache.EvictionPolicy.ERROR, KVCache.Storage.FLOAT32);
      int v = config.vocabSize();
      int[] prompt = new int[70];
      for (int i = 0; i < prompt.length; i++) {
        prompt[i] = (i * 37 + 11) % v;
      }
      both.forward(c, 0, prompt, true);
      both.forward(c, 1, new int[] {5, 6, 7}, false);
      int t = 1;
      for (int i = 0; i < 4; i++) {
        t = argmax(both.forward(c, 0, new int[] {t}, false), 0, v);
        both.step(c, new int[] {2, 1}, new int[] {t, i});
      }
      StringBuilder b = new StringBuilder();
      lock.worst.forEach((k, w) -> b.append(String.format(java.util.Locale.ROOT, " %s %.3g", k, w[0])));
      System.out.println("lockstep " + name + ", worst per operation:" + b);
      assertTrue(lock.worst.containsKey("ropeAttend") && lock.worst.containsKey("logits")
          && (precision == Precision.TERNARY ? lock.worst.containsKey("project (exact)") || lock.worst.containsKey("normProject")
              : lock.worst.containsKey("matmul")), lock.worst.keySet().toString());
    }
  }

  /** A CPU program, and the same program on the GPU by changing the backend name only. */
  static Generation.Result program(String backendName) {
    DecoderConfig config = DecoderConfig.builder().vocabSize(512).hiddenSize(256).numLayers(4).numHeads(8).numKvHeads(2)
        .ffnSize(688).activation(FfnActivation.SQUARED_RELU).ropeTheta(500000f).build();
    try (Backend backend = BackendRegistry.load().open(backendName);
        DecoderModel model = DecoderModel.random(config, Precision.TERNARY, 42).on(backend)) {
      return Generation.run(model, new int[] {1, 17, 33, 250, 7}, Generation.Options.greedy(24), null);
    }
  }

  @Test
  void switchingACpuProgramToTheGpuChangesOnlyTheBackendName() {
    Generation.Result cpu = program("tritter-accel");
    Generation.Result gpu = program("cuda");
    assertEquals(24, gpu.tokens().length);
    assertArrayEquals(cpu.tokens(), gpu.tokens());
  }
}
