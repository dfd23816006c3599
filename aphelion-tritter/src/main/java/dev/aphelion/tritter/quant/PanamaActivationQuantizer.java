package dev.aphelion.tritter.quant;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API version of {@link ActivationQuantizer}; bit-for-bit equal to the scalar reference
 * (the max is order independent, and division and rounding are done lane-wise with the same
 * operations). Public only so that {@link dev.aphelion.tritter.kernel.Vectorization} can create it.
 */
final class PanamaActivationQuantizer implements ActivationQuantizer {

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
  // The bytes of one float vector's worth of lanes: a quarter of its width (at least 64 bits).
  private static final VectorSpecies<Byte> B =
      VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, F.vectorBitSize() / 4)));
  private static final VectorMask<Byte> B_STORE = B.indexInRange(0, F.length());

  /** Creates the quantizer. */
  PanamaActivationQuantizer() {}

  @Override
  public float quantize(float[] x, int xOff, int cols, byte[] q, int qOff) {
    int lanes = F.length();
    int bound = F.loopBound(cols);
    FloatVector vmax = FloatVector.zero(F);
    int i = 0;
    for (; i < bound; i += lanes) {
      vmax = vmax.max(FloatVector.fromArray(F, x, xOff + i).abs());
    }
    float max = vmax.reduceLanes(VectorOperators.MAX);
    for (; i < cols; i++) {
      max = Math.max(max, Math.abs(x[xOff + i]));
    }
    if (!Float.isFinite(max)) {
      return Float.NaN;
    }
    if (max == 0f) {
      for (int j = 0; j < cols; j++) {
        q[qOff + j] = 0;
      }
      return 1f;
    }
    float inv = 127f / max;
    i = 0;
    for (; i < bound; i += lanes) {
      FloatVector v = FloatVector.fromArray(F, x, xOff + i).mul(inv);
      FloatVector a = v.abs().min(127f);
      IntVector t = (IntVector) a.convertShape(VectorOperators.F2I, I, 0);
      FloatVector frac = a.sub((FloatVector) t.convertShape(VectorOperators.I2F, F, 0));
      // half to even: up above .5, or at exactly .5 when the integer part is odd
      VectorMask<Integer> odd = t.and(1).compare(VectorOperators.NE, 0);
      VectorMask<Integer> up = frac.compare(VectorOperators.GT, 0.5f).cast(I)
          .or(frac.compare(VectorOperators.EQ, 0.5f).cast(I).and(odd));
      IntVector r = t.add(1, up).min(127);
      r = r.lanewise(VectorOperators.NEG, v.compare(VectorOperators.LT, 0f).cast(I));
      ByteVector bytes = (ByteVector) r.convertShape(VectorOperators.I2B, B, 0);
      if (B.length() == lanes) {
        bytes.intoArray(q, qOff + i);
      } else {
        bytes.intoArray(q, qOff + i, B_STORE);
      }
    }
    for (; i < cols; i++) {
      q[qOff + i] = (byte) ScalarActivationQuantizer.roundClamp(x[xOff + i] * inv);
    }
    return max / 127f;
  }
}
