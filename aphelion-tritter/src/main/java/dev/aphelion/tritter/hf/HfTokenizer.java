package dev.aphelion.tritter.hf;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ShapeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * A model's own {@code tokenizer.json} (for BitNet b1.58 2B4T: Llama 3's byte-level BPE), run by
 * Hugging Face's tokenizers library through DJL's binding ({@code ai.djl.huggingface:tokenizers},
 * whose jar carries the native library for linux-x86_64, linux-aarch64, macOS arm64 and Windows
 * x86_64, so nothing is downloaded). That dependency is optional for aphelion-tritter: add it to use
 * this class; without it {@link #load} fails with an {@link AphelionException} saying so.
 *
 * <p>Only the file is read: the binding is never asked to fetch a tokenizer by name. Closing
 * frees the native tokenizer.
 */
public final class HfTokenizer implements AutoCloseable {

  private final Path file;
  private final HuggingFaceTokenizer tokenizer;

  private HfTokenizer(Path file, HuggingFaceTokenizer tokenizer) {
    this.file = file;
    this.tokenizer = tokenizer;
  }

  /**
   * Loads {@code tokenizer.json}; a directory means its {@code tokenizer.json}.
   *
   * @param path the file or the model directory
   * @return the tokenizer; close it to free the native side
   * @throws AphelionException with {@link ErrorCode#IO} if the file is missing or unreadable, or
   *     the DJL binding is not on the class or module path
   */
  public static HfTokenizer load(Path path) {
    Objects.requireNonNull(path, "path");
    Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
    if (!Files.isRegularFile(file)) {
      throw new AphelionException(ErrorCode.IO, file + " does not exist; the model directory needs its tokenizer.json");
    }
    try {
      // addSpecialTokens: the post-processor adds BOS as transformers does; no truncation or padding
      return new HfTokenizer(file, HuggingFaceTokenizer.newInstance(file, Map.of("addSpecialTokens", "true",
          "truncation", "false", "padding", "false")));
    } catch (NoClassDefFoundError e) {
      throw new AphelionException(ErrorCode.IO, "tokenizing needs the optional dependency ai.djl.huggingface:tokenizers "
          + "(module ai.djl.tokenizers) on the class or module path: " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      throw new AphelionException(ErrorCode.IO, "cannot load the tokenizer " + file + ": " + e.getMessage(), e);
    }
  }

  /** The file this tokenizer was read from. */
  public Path file() {
    return file;
  }

  /**
   * Encodes text with the tokenizer's special tokens (BOS for Llama 3 style tokenizers).
   *
   * @param text the text
   * @return token ids
   */
  public int[] encode(String text) {
    return encode(text, true);
  }

  /**
   * Encodes text.
   *
   * @param text the text
   * @param addSpecialTokens whether the post-processor adds its special tokens
   * @return token ids
   */
  public int[] encode(String text, boolean addSpecialTokens) {
    Objects.requireNonNull(text, "text");
    long[] ids = tokenizer.encode(text, addSpecialTokens, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /**
   * Decodes ids to text.
   *
   * @param ids token ids
   * @param skipSpecialTokens whether special tokens are left out
   * @return the text; an incomplete UTF-8 sequence at the end shows as U+FFFD
   * @throws ShapeException if an id is negative
   */
  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] < 0) {
        throw new ShapeException("token id " + ids[i] + " at " + i + " is negative");
      }
      l[i] = ids[i];
    }
    return tokenizer.decode(l, skipSpecialTokens);
  }

  /**
   * A decoder for streaming: feed generated tokens one by one and get the text they add. Text is
   * held back while it ends in an incomplete UTF-8 sequence (a multi-byte character split across
   * byte-level tokens), so no replacement character is printed mid-character.
   *
   * @return a new decoder with no tokens
   */
  public StreamDecoder streamDecoder() {
    return new StreamDecoder();
  }

  /** Incremental decoding of one generated sequence; not thread-safe. */
  public final class StreamDecoder {
    private int[] ids = new int[16];
    private int n;
    private int emitted;

    private StreamDecoder() {}

    /**
     * Adds a token.
     *
     * @param id the token
     * @return the new text, possibly empty
     */
    public String add(int id) {
      if (n == ids.length) {
        ids = Arrays.copyOf(ids, n * 2);
      }
      ids[n++] = id;
      String text = decode(Arrays.copyOf(ids, n), true);
      if (text.endsWith("\uFFFD") || text.length() < emitted) {
        return "";
      }
      String delta = text.substring(emitted);
      emitted = text.length();
      return delta;
    }

    /** The whole text decoded so far, including any held-back tail. */
    public String text() {
      return decode(Arrays.copyOf(ids, n), true);
    }
  }

  /** Frees the native tokenizer. Idempotent. */
  @Override
  public void close() {
    tokenizer.close();
  }
}
