package dev.aphelion.tritter.train;

import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.SerializationException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * One worker's state after {@code steps} steps, and its file format (version 1, little-endian):
 * magic "APCK", version int, rank int, workers int, parameter count int, config hash long, data
 * hash long, steps long; parameters (f32 each); optimizer steps long, array count int, each array
 * (length int, f32 values); scaler flag byte [scale double, clean steps int, skipped long];
 * exchange flag byte [codec step long, residual f32 × parameter count]; skipped steps long, the
 * current epoch's loss sum double, correct long, seen long; epoch count int, each epoch (epoch int,
 * loss sum double, correct long, seen long, eval correct long, eval count long, seconds double);
 * CRC32C int of all bytes before it.
 */
record TrainingCheckpoint(int rank, int workers, int parameterCount, long configHash, long dataHash, long steps,
    float[] parameters, Optimizer.State optimizer, ScalerState scaler, GradientExchange.State exchange, long skipped,
    double lossSum, long correct, long seen, List<EpochStats> history) {
  static final int MAGIC = 0x4B435041;
  static final int VERSION = 1;

  /** A loss scaler's mutable state. */
  record ScalerState(double scale, int cleanSteps, long skipped) {}

  byte[] toBytes() {
    long size = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 8 + 4L * parameterCount + 8 + 4 + 1 + 20 + 1 + 8 + 4L * parameterCount + 8 + 8 + 8
        + 8 + 4 + 52L * history.size() + 4;
    for (float[] a : optimizer.arrays()) {
      size += 4 + 4L * a.length;
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new ConfigException("a checkpoint of " + parameterCount + " parameters needs " + size + " bytes, more than one "
          + "file of this format holds");
    }
    ByteBuffer b = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(MAGIC).putInt(VERSION).putInt(rank).putInt(workers).putInt(parameterCount).putLong(configHash)
        .putLong(dataHash).putLong(steps);
    putFloats(b, parameters);
    b.putLong(optimizer.steps()).putInt(optimizer.arrays().length);
    for (float[] a : optimizer.arrays()) {
      b.putInt(a.length);
      putFloats(b, a);
    }
    b.put((byte) (scaler == null ? 0 : 1));
    if (scaler != null) {
      b.putDouble(scaler.scale()).putInt(scaler.cleanSteps()).putLong(scaler.skipped());
    }
    b.put((byte) (exchange == null ? 0 : 1));
    if (exchange != null) {
      b.putLong(exchange.step());
      putFloats(b, exchange.residual());
    }
    b.putLong(skipped).putDouble(lossSum).putLong(correct).putLong(seen).putInt(history.size());
    for (EpochStats e : history) {
      b.putInt(e.epoch()).putDouble(e.lossSum()).putLong(e.correct()).putLong(e.seen()).putLong(e.evalCorrect())
          .putLong(e.evalCount()).putDouble(e.seconds());
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return java.util.Arrays.copyOf(b.array(), b.position());
  }

  /**
   * Parses and checks a checkpoint file.
   *
   * @throws SerializationException naming {@code source} if the bytes are not a version-1
   *     checkpoint, are truncated, or fail the checksum
   */
  static TrainingCheckpoint parse(byte[] bytes, String source) {
    if (bytes.length < 12) {
      throw new SerializationException("checkpoint " + source + " is truncated (" + bytes.length + " bytes)");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int magic = b.getInt();
    int version = b.getInt();
    if (magic != MAGIC) {
      throw new SerializationException("checkpoint " + source + " is not an Aphelion training checkpoint (magic 0x"
          + Integer.toHexString(magic) + ")");
    }
    if (version != VERSION) {
      throw new SerializationException("checkpoint " + source + " has format version " + version + "; this library reads "
          + "version " + VERSION);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    if (stored != (int) crc.getValue()) {
      throw new SerializationException("checkpoint " + source + " is corrupt: CRC32C 0x" + Integer.toHexString((int) crc.getValue())
          + " over its " + (bytes.length - 4) + " bytes, the file says 0x" + Integer.toHexString(stored));
    }
    try {
      int rank = b.getInt();
      int workers = b.getInt();
      int n = b.getInt();
      long configHash = b.getLong();
      long dataHash = b.getLong();
      long steps = b.getLong();
      if (n < 1 || workers < 1 || rank < 0 || rank >= workers || steps < 0) {
        throw new SerializationException("checkpoint " + source + " has a bad header (rank " + rank + " of " + workers
            + ", " + n + " parameters, step " + steps + ")");
      }
      float[] params = floats(b, n, source);
      long optSteps = b.getLong();
      int arrays = b.getInt();
      if (arrays < 0 || arrays > 16) {
        throw new SerializationException("checkpoint " + source + " claims " + arrays + " optimizer arrays");
      }
      float[][] opt = new float[arrays][];
      for (int i = 0; i < arrays; i++) {
        opt[i] = floats(b, b.getInt(), source);
      }
      ScalerState scaler = flag(b, source) ? new ScalerState(b.getDouble(), b.getInt(), b.getLong()) : null;
      GradientExchange.State exchange = null;
      if (flag(b, source)) {
        long s = b.getLong();
        exchange = new GradientExchange.State(s, floats(b, n, source));
      }
      long skipped = b.getLong();
      double lossSum = b.getDouble();
      long correct = b.getLong();
      long seen = b.getLong();
      int epochs = b.getInt();
      if (epochs < 0 || (long) epochs * 52 > b.remaining()) {
        throw new SerializationException("checkpoint " + source + " claims " + epochs + " epochs in " + b.remaining() + " bytes");
      }
      List<EpochStats> history = new ArrayList<>(epochs);
      for (int i = 0; i < epochs; i++) {
        history.add(new EpochStats(b.getInt(), b.getDouble(), b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getDouble()));
      }
      if (b.remaining() != 4) {
        throw new SerializationException("checkpoint " + source + " has " + (b.remaining() - 4) + " bytes after its last section");
      }
      return new TrainingCheckpoint(rank, workers, n, configHash, dataHash, steps, params,
          new Optimizer.State(optSteps, opt), scaler, exchange, skipped, lossSum, correct, seen, List.copyOf(history));
    } catch (BufferUnderflowException e) {
      throw new SerializationException("checkpoint " + source + " is truncated (" + bytes.length + " bytes)", e);
    }
  }

  private static boolean flag(ByteBuffer b, String source) {
    byte f = b.get();
    if (f != 0 && f != 1) {
      throw new SerializationException("checkpoint " + source + " has flag byte " + f + " at offset " + (b.position() - 1));
    }
    return f == 1;
  }

  private static void putFloats(ByteBuffer b, float[] a) {
    b.asFloatBuffer().put(a);
    b.position(b.position() + 4 * a.length);
  }

  private static float[] floats(ByteBuffer b, int n, String source) {
    if (n < 0 || 4L * n > b.remaining()) {
      throw new SerializationException("checkpoint " + source + " claims " + n + " values in " + b.remaining() + " bytes");
    }
    float[] a = new float[n];
    b.asFloatBuffer().get(a);
    b.position(b.position() + 4 * n);
    return a;
  }
}
