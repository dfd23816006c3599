package dev.aphelion.core.config;

/**
 * The preset configs of the Rust original, under the same keys: {@code hidden_size} (long),
 * {@code num_layers} (long), {@code dropout} (double) and {@code activation} (string), version
 * {@code 1.0.0}.
 *
 * <table>
 *   <caption>Presets</caption>
 *   <tr><th>preset</th><th>hidden_size</th><th>num_layers</th><th>dropout</th><th>activation</th></tr>
 *   <tr><td>small</td><td>256</td><td>2</td><td>0.1</td><td>relu</td></tr>
 *   <tr><td>medium</td><td>512</td><td>4</td><td>0.2</td><td>relu</td></tr>
 *   <tr><td>large</td><td>1024</td><td>8</td><td>0.3</td><td>relu</td></tr>
 * </table>
 */
public final class ModelConfigs {
  /** Param key of the hidden (model) width. */
  public static final String HIDDEN_SIZE = "hidden_size";

  /** Param key of the number of layers. */
  public static final String NUM_LAYERS = "num_layers";

  /** Param key of the dropout probability. */
  public static final String DROPOUT = "dropout";

  /** Param key of the activation function name. */
  public static final String ACTIVATION = "activation";

  /** Version of every preset. */
  public static final String PRESET_VERSION = "1.0.0";

  private ModelConfigs() {}

  /** The small preset, named {@code small}: hidden 256, 2 layers, dropout 0.1, relu. */
  public static ModelConfig small() {
    return preset("small", 256, 2, 0.1);
  }

  /** The medium preset, named {@code medium}: hidden 512, 4 layers, dropout 0.2, relu. */
  public static ModelConfig medium() {
    return preset("medium", 512, 4, 0.2);
  }

  /** The large preset, named {@code large}: hidden 1024, 8 layers, dropout 0.3, relu. */
  public static ModelConfig large() {
    return preset("large", 1024, 8, 0.3);
  }

  private static ModelConfig preset(String name, long hidden, long layers, double dropout) {
    return ModelConfig.builder(name, PRESET_VERSION)
        .param(HIDDEN_SIZE, hidden)
        .param(NUM_LAYERS, layers)
        .param(DROPOUT, dropout)
        .param(ACTIVATION, "relu")
        .build();
  }
}
