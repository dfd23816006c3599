package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ShapeException;
import java.util.ConcurrentModificationException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Phase-based training that replaces some backward passes by predicted gradients, deterministically.
 *
 * <p><b>Schedule.</b> {@code WARMUP} for {@code warmupSteps}, then cycles of {@code FULL} for
 * {@code fullSteps} followed by a predict phase. Inside a predict phase, with {@code p} the number
 * of steps already taken in it (predicted and correcting alike), the step is a {@code CORRECT} step
 * when {@code p > 0} and {@code p % correctEvery == 0}, else a {@code PREDICT} step; the phase ends
 * after the first correction that brings {@code p} to at least {@code predictSteps}, so every
 * predict phase ends with a correction. For warmup 3, full 2, predict 4, correct every 2 the first
 * 20 steps are {@code WWWFFPPCPCFFPPCPCFFP}; with the defaults (10, 5, 20, 5) 100 steps need 43
 * backward passes (2.33 steps per backward pass).
 *
 * <p><b>Prediction.</b> Every real gradient (warmup, full and correct steps) is recorded; the
 * predictor fits, per coordinate, a weighted least-squares line {@code g(t) = a + b t} over the
 * last 8 recorded gradients with weights {@code 0.95^age} (age 0 for the newest) and evaluates it
 * at the current step, then adds the residual correction {@code r}. At a correct step the real
 * gradient {@code g} updates {@code r = 0.95 r + 0.05 (g - prediction)}.
 *
 * <p>Deterministic: all arithmetic is in a fixed order. Not thread-safe, but checked: a call to
 * {@link #step} or {@link #predict} from a second thread while one is running (including inside
 * the {@code backward} callback) throws {@link ConcurrentModificationException} instead of
 * mixing two histories. Calls that do not overlap may come from different threads.
 */
public final class DeterministicPhaseTrainer {
  /** History length of the predictor. */
  public static final int HISTORY = 8;
  private static final double DECAY = 0.95;
  private static final float EMA_KEEP = 0.95f;
  private static final float EMA_NEW = 0.05f;

  /** The phase of one step. */
  public enum Phase {
    /** Building gradient history; real gradients. */
    WARMUP('W'),
    /** Real gradients. */
    FULL('F'),
    /** Predicted gradients; no backward pass. */
    PREDICT('P'),
    /** A real gradient that also corrects the predictor's residual. */
    CORRECT('C');

    private final char letter;

    Phase(char letter) {
      this.letter = letter;
    }

    /** The schedule letter: W, F, P or C. */
    public char letter() {
      return letter;
    }

    /** Whether this phase needs a backward pass. */
    public boolean needsBackward() {
      return this != PREDICT;
    }
  }

  /**
   * Phase lengths.
   *
   * @param warmupSteps steps of warmup, at least 1 (the predictor needs history)
   * @param fullSteps full steps per cycle, at least 1
   * @param predictSteps minimum steps per predict phase, at least 1
   * @param correctEvery a correction every this many steps of a predict phase, at least 1
   */
  public record Config(int warmupSteps, int fullSteps, int predictSteps, int correctEvery) {
    /**
     * Validates the lengths.
     *
     * @throws ConfigException if a length is below 1
     */
    public Config {
      if (warmupSteps < 1 || fullSteps < 1 || predictSteps < 1 || correctEvery < 1) {
        throw new ConfigException("phase lengths must be at least 1, got warmup " + warmupSteps + ", full " + fullSteps
            + ", predict " + predictSteps + ", correctEvery " + correctEvery);
      }
    }

    /** The defaults of the Rust original: warmup 10, full 5, predict 20, correct every 5. */
    public static Config defaults() {
      return new Config(10, 5, 20, 5);
    }
  }

  private final Config config;
  private final int dimension;
  private final float[][] history = new float[HISTORY][];
  private final long[] historyStep = new long[HISTORY];
  private int recorded;
  private final float[] residual;
  private long step;
  private long backwardPasses;
  private Phase phase = Phase.WARMUP;
  private int inPhase;
  private final AtomicReference<Thread> user = new AtomicReference<>();

  /**
   * Creates a trainer.
   *
   * @param config the phase lengths
   * @param dimension the gradient size, at least 1
   */
  public DeterministicPhaseTrainer(Config config, int dimension) {
    this.config = Objects.requireNonNull(config, "config");
    if (dimension < 1) {
      throw new ShapeException("gradient dimension must be at least 1, got " + dimension);
    }
    this.dimension = dimension;
    this.residual = new float[dimension];
  }

  /**
   * The first {@code steps} phase letters of a schedule, for example {@code WWWFFPPCPCFFPPCPCFFP}.
   *
   * @param config the phase lengths
   * @param steps how many steps
   * @return one letter per step
   */
  public static String schedule(Config config, int steps) {
    DeterministicPhaseTrainer t = new DeterministicPhaseTrainer(config, 1);
    StringBuilder b = new StringBuilder(steps);
    for (int i = 0; i < steps; i++) {
      b.append(t.phase().letter());
      t.advance();
    }
    return b.toString();
  }

  /** The phase of the next step. */
  public Phase phase() {
    if (phase == Phase.PREDICT && inPhase > 0 && inPhase % config.correctEvery() == 0) {
      return Phase.CORRECT;
    }
    return phase;
  }

  /**
   * Runs one step: on warmup, full and correct steps calls {@code backward} for the real gradient
   * and records it; on predict steps returns the predicted gradient without calling it.
   *
   * @param backward computes the real gradient of this step ({@link #dimension()} values)
   * @return the gradient to apply
   * @throws ShapeException if {@code backward} returns the wrong size
   */
  public float[] step(Supplier<float[]> backward) {
    boolean claimed = claim("step");
    try {
      return stepClaimed(backward);
    } finally {
      release(claimed);
    }
  }

  /** Claims the trainer for this thread; false for a nested call of the thread that holds it. */
  private boolean claim(String method) {
    Thread me = Thread.currentThread();
    Thread other = user.compareAndExchange(null, me);
    if (other == null) {
      return true;
    }
    if (other == me) {
      return false;
    }
    throw new ConcurrentModificationException("DeterministicPhaseTrainer." + method + " called on thread '" + me.getName()
        + "' while thread '" + other.getName() + "' is in a step; the trainer is not thread-safe: order the calls");
  }

  private void release(boolean claimed) {
    if (claimed) {
      user.set(null);
    }
  }

  private float[] stepClaimed(Supplier<float[]> backward) {
    Phase p = phase();
    float[] g;
    if (p == Phase.PREDICT) {
      g = predict();
    } else {
      g = Objects.requireNonNull(backward.get(), "backward returned null");
      if (g.length != dimension) {
        throw new ShapeException("gradient has " + g.length + " values, the trainer was made for " + dimension);
      }
      backwardPasses++;
      if (p == Phase.CORRECT) {
        float[] predicted = predict();
        for (int i = 0; i < dimension; i++) {
          residual[i] = EMA_KEEP * residual[i] + EMA_NEW * (g[i] - predicted[i]);
        }
      }
      record(g);
    }
    advance();
    return g;
  }

  /**
   * The predicted gradient for the next step: the weighted linear fit plus the residual correction.
   *
   * @return the prediction
   * @throws ShapeException if no gradient was recorded yet
   */
  public float[] predict() {
    boolean claimed = claim("predict");
    try {
      return predictClaimed();
    } finally {
      release(claimed);
    }
  }

  private float[] predictClaimed() {
    if (recorded == 0) {
      throw new ShapeException("no gradient recorded yet: run warmup steps before predicting");
    }
    int h = Math.min(recorded, HISTORY);
    long newest = historyStep[(recorded - 1) % HISTORY];
    double s0 = 0, s1 = 0, s2 = 0;
    double[] w = new double[h], t = new double[h];
    float[][] g = new float[h][];
    for (int age = 0; age < h; age++) {
      int slot = (recorded - 1 - age) % HISTORY;
      w[age] = Math.pow(DECAY, age);
      t[age] = historyStep[slot] - newest; // 0 for the newest, negative before
      g[age] = history[slot];
      s0 += w[age];
      s1 += w[age] * t[age];
      s2 += w[age] * t[age] * t[age];
    }
    double det = s0 * s2 - s1 * s1;
    double at = step - newest;
    float[] out = new float[dimension];
    for (int i = 0; i < dimension; i++) {
      double sy = 0, sty = 0;
      for (int age = 0; age < h; age++) {
        sy += w[age] * g[age][i];
        sty += w[age] * t[age] * g[age][i];
      }
      double value;
      if (h < 2 || Math.abs(det) < 1e-12) {
        value = sy / s0;
      } else {
        double b = (s0 * sty - s1 * sy) / det;
        double a = (sy - b * s1) / s0;
        value = a + b * at;
      }
      out[i] = (float) value + residual[i];
    }
    return out;
  }

  private void record(float[] g) {
    int slot = recorded % HISTORY;
    history[slot] = g.clone();
    historyStep[slot] = step;
    recorded++;
  }

  private void advance() {
    Phase current = phase();
    step++;
    inPhase++;
    switch (phase) {
      case WARMUP -> {
        if (inPhase >= config.warmupSteps()) {
          enter(Phase.FULL);
        }
      }
      case FULL -> {
        if (inPhase >= config.fullSteps()) {
          enter(Phase.PREDICT);
        }
      }
      case PREDICT, CORRECT -> {
        if (current == Phase.CORRECT && inPhase >= config.predictSteps()) {
          enter(Phase.FULL);
        }
      }
    }
  }

  private void enter(Phase next) {
    phase = next;
    inPhase = 0;
  }

  /** A copy of the residual correction added to predictions. */
  public float[] residual() {
    return residual.clone();
  }

  /** Steps taken. */
  public long steps() {
    return step;
  }

  /** Backward passes run (warmup, full and correct steps). */
  public long backwardPasses() {
    return backwardPasses;
  }

  /** Steps per backward pass so far (the Rust original's "speedup"; not a time measurement). */
  public double stepsPerBackwardPass() {
    return backwardPasses == 0 ? 0.0 : (double) step / backwardPasses;
  }

  /** The gradient size. */
  public int dimension() {
    return dimension;
  }

  /** The phase lengths. */
  public Config config() {
    return config;
  }
}
