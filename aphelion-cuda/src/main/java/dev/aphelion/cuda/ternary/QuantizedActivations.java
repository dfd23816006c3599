package dev.aphelion.cuda.ternary;

/**
 * Per-token int8 activations as the GPU quantizer produced them, copied to the host (natural
 * column order): {@code x ≈ q * scale}.
 *
 * @param values {@code [batch][cols]} int8 values in {@code [-127, 127]}
 * @param scales one scale per token
 * @param sums the int32 sum of each token's values (the kernels' zero-point correction)
 * @param batch number of tokens
 * @param cols values per token
 */
public record QuantizedActivations(byte[] values, float[] scales, int[] sums, int batch, int cols) {}
