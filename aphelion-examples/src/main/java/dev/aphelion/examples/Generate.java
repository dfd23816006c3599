package dev.aphelion.examples;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.tritter.hf.ChatTemplate;
import dev.aphelion.tritter.hf.HfConfig;
import dev.aphelion.tritter.hf.HfModel;
import dev.aphelion.tritter.hf.HfTokenizer;
import dev.aphelion.tritter.model.Generation;
import dev.aphelion.tritter.kernel.RowPool;
import dev.aphelion.tritter.model.Precision;
import dev.aphelion.tritter.model.Sampler;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code ./aphelion generate --model DIR --prompt TEXT}: loads a Hugging Face BitNetForCausalLM
 * directory (config.json, safetensors, tokenizer.json), streams the generated text to standard
 * output, and ends with prompt and generation tokens per second on standard error.
 *
 * <p>Options: {@code --max-tokens N} (default 128), {@code --temperature T} (default 0: greedy),
 * {@code --top-k K} (default 0: all), {@code --top-p P} (default 1), {@code --repetition-penalty R}
 * (default 1), {@code --seed S} (default 0), {@code --threads N} (default: every available
 * processor), {@code --f32-head} (keep the embedding/head in f32 as transformers computes it; the
 * default stores it as int8 rows, a quarter of the bytes each decoding step reads for the head), {@code --chat} (wrap the prompt as a user message in the model's chat template, with
 * {@code --system TEXT} as an optional system message), {@code --no-bos} (do not add the tokenizer's
 * special tokens), {@code --ignore-eos} (do not stop at end-of-sequence tokens).
 */
public final class Generate {

  private Generate() {}

  /** Parsed command line. */
  record Args(Path model, String prompt, int maxTokens, float temperature, int topK, float topP, float penalty, long seed,
      boolean bos, boolean ignoreEos, int threads, boolean chat, String system, boolean f32Head) {

    static Args parse(String[] a) {
      Path model = null;
      String prompt = null;
      int maxTokens = 128;
      float temperature = 0f;
      int topK = 0;
      float topP = 1f;
      float penalty = 1f;
      long seed = 0;
      boolean bos = true;
      boolean ignoreEos = false;
      int threads = 0;
      boolean chat = false;
      String system = null;
      boolean f32Head = false;
      for (int i = 0; i < a.length; i++) {
        String k = a[i];
        switch (k) {
          case "--no-bos" -> bos = false;
          case "--ignore-eos" -> ignoreEos = true;
          case "--chat" -> chat = true;
          case "--f32-head" -> f32Head = true;
          case "--model", "--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--repetition-penalty", "--seed",
              "--threads", "--system" -> {
            if (i + 1 >= a.length) {
              throw new ConfigException(k + " needs a value");
            }
            String v = a[++i];
            try {
              switch (k) {
                case "--model" -> model = Path.of(v);
                case "--prompt" -> prompt = v;
                case "--max-tokens" -> maxTokens = Integer.parseInt(v);
                case "--temperature" -> temperature = Float.parseFloat(v);
                case "--top-k" -> topK = Integer.parseInt(v);
                case "--top-p" -> topP = Float.parseFloat(v);
                case "--repetition-penalty" -> penalty = Float.parseFloat(v);
                case "--system" -> system = v;
                case "--threads" -> {
                  threads = Integer.parseInt(v);
                  if (threads < 1) {
                    throw new ConfigException("--threads needs a positive number, got " + threads);
                  }
                }
                default -> seed = Long.parseLong(v);
              }
            } catch (NumberFormatException e) {
              throw new ConfigException(k + " needs a number, got '" + v + "'", e);
            }
          }
          default -> throw new ConfigException("unknown option '" + k + "'; " + USAGE);
        }
      }
      if (model == null || prompt == null) {
        throw new ConfigException("--model and --prompt are required; " + USAGE);
      }
      if (system != null && !chat) {
        throw new ConfigException("--system needs --chat");
      }
      return new Args(model, prompt, maxTokens, temperature, topK, topP, penalty, seed, bos, ignoreEos, threads, chat, system, f32Head);
    }
  }

  static final String USAGE = "usage: ./aphelion generate --model DIR --prompt TEXT [--max-tokens N] [--temperature T] "
      + "[--top-k K] [--top-p P] [--repetition-penalty R] [--seed S] [--threads N] [--f32-head] [--chat [--system TEXT]] [--no-bos] [--ignore-eos]";

  /**
   * Runs the command.
   *
   * @param args the command line
   */
  public static void main(String[] args) {
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    try {
      run(Args.parse(args), out, System.err);
    } catch (AphelionException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }

  /** Generates and streams; returns the result for tests. */
  static Generation.Result run(Args a, PrintStream out, PrintStream err) {
    if (a.threads() > 0) {
      try {
        RowPool.configureShared(a.threads());
      } catch (IllegalStateException e) {
        throw new ConfigException("--threads " + a.threads() + ": " + e.getMessage(), e);
      }
    }
    long t0 = System.nanoTime();
    HfModel m;
    if (a.f32Head() || !Files.isDirectory(a.model())) {
      m = HfModel.load(a.model()); // reports a bad path too
    } else {
      boolean dense = HfConfig.read(a.model().resolve("config.json")).weightForm() == HfConfig.WeightForm.DENSE;
      m = HfModel.load(a.model(), dense ? Precision.DENSE_F32 : Precision.TERNARY, true);
    }
    try (HfTokenizer tok = HfTokenizer.load(a.model())) {
      err.printf(Locale.ROOT, "loaded %s (%s, %d layers, hidden %d, vocab %d) in %.1f s; weights %.1f MiB%n", a.model(),
          m.config().weightForm(), m.config().decoder().numLayers(), m.config().decoder().hiddenSize(),
          m.config().decoder().vocabSize(), (System.nanoTime() - t0) / 1e9, m.model().weightMemoryBytes() / 1048576.0);
      err.printf(Locale.ROOT, "threads: %d; embedding/head %s%n", RowPool.shared().parallelism(), a.f32Head() ? "f32" : "int8");
      int[] prompt;
      if (a.chat()) {
        ChatTemplate template = ChatTemplate.load(a.model()).orElseThrow(() -> new ConfigException(a.model()
            + " has no chat template (chat_template.jinja or tokenizer_config.json's chat_template); drop --chat"));
        List<ChatTemplate.Message> msgs = new ArrayList<>();
        if (a.system() != null) {
          msgs.add(new ChatTemplate.Message("system", a.system()));
        }
        msgs.add(new ChatTemplate.Message("user", a.prompt()));
        // the template writes the special tokens itself
        prompt = tok.encode(template.render(msgs, true), false);
      } else {
        prompt = tok.encode(a.prompt(), a.bos());
      }
      Sampler sampler = a.temperature() == 0f ? Sampler.greedy() : Sampler.of(a.temperature(), a.topK(), a.topP(), a.seed());
      Generation.Options o = new Generation.Options(a.maxTokens(), sampler, a.penalty(),
          a.ignoreEos() ? java.util.Set.of() : m.stopTokens(), m.config().maxPositions());
      HfTokenizer.StreamDecoder dec = tok.streamDecoder();
      out.print(a.prompt());
      Generation.Result r = Generation.run(m.model(), prompt, o, t -> {
        out.print(dec.add(t));
        out.flush();
        return true;
      });
      out.println();
      err.printf(Locale.ROOT, "prompt: %d tokens, %.1f tokens/s; generation: %d tokens, %.1f tokens/s (%s)%n", r.promptTokens(),
          r.prefillTokensPerSecond(), r.tokens().length, r.decodeTokensPerSecond(), r.stopReason());
      return r;
    }
  }
}
