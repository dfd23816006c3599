package dev.aphelion.core.pipeline;

import dev.aphelion.core.config.ConfigValidator;
import dev.aphelion.core.config.ConfigValidators;
import dev.aphelion.core.config.ModelConfig;
import dev.aphelion.core.config.ModelConfigs;
import dev.aphelion.core.error.ValidationException;
import dev.aphelion.core.graph.BuildGraph;
import dev.aphelion.core.trace.TraceLevel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Runs {@link GraphValidator}s over the graph (and a {@link ConfigValidator} over the context's
 * model config, if there is one and a validator was given) and fails with one {@link
 * ValidationException} listing every problem. Returns the graph unchanged.
 */
public final class ValidationStage implements PipelineStage {
  /** The stage name. */
  public static final String NAME = "validation";

  /**
   * The config rules that every node config and the model config must pass: the types and ranges
   * of the preset keys when present ({@code hidden_size} and {@code num_layers} positive longs,
   * {@code dropout} in {@code [0, 1)}, {@code activation} a known name). Unlike {@link
   * ConfigValidators#standard()} nothing is required, because an op such as {@code relu} has no
   * hidden size.
   */
  public static final ConfigValidator PRESET_KEY_RULES =
      ConfigValidator.all(
          ConfigValidators.longInRange(ModelConfigs.HIDDEN_SIZE, 1, Integer.MAX_VALUE),
          ConfigValidators.longInRange(ModelConfigs.NUM_LAYERS, 1, 10_000),
          ConfigValidators.doubleInRange(ModelConfigs.DROPOUT, 0.0, 1.0, false),
          ConfigValidators.oneOf(
              ModelConfigs.ACTIVATION,
              Set.of("relu", "gelu", "silu", "tanh", "sigmoid", "identity")));

  private final List<GraphValidator> validators;
  private final ConfigValidator modelConfigValidator;

  /**
   * Creates a stage.
   *
   * @param validators the graph validators, run in order
   * @param modelConfigValidator checks {@link BuildContext#config()} when present, or {@code null}
   *     to leave it unchecked
   */
  public ValidationStage(List<? extends GraphValidator> validators, ConfigValidator modelConfigValidator) {
    this.validators = List.copyOf(validators);
    this.modelConfigValidator = modelConfigValidator;
  }

  /**
   * The standard validation: the graph is non-empty, has no isolated nodes, and every node config
   * and the model config pass {@link #PRESET_KEY_RULES}.
   *
   * @return the stage
   */
  public static ValidationStage standard() {
    return new ValidationStage(
        List.of(
            GraphValidators.nonEmpty(),
            GraphValidators.noIsolatedNodes(),
            GraphValidators.nodeConfigs(PRESET_KEY_RULES)),
        PRESET_KEY_RULES);
  }

  /**
   * Structure only: the graph is non-empty and has no isolated nodes. Configs are not checked.
   *
   * @return the stage
   */
  public static ValidationStage structural() {
    return new ValidationStage(
        List.of(GraphValidators.nonEmpty(), GraphValidators.noIsolatedNodes()), null);
  }

  /**
   * A stage with the validators of this one plus another.
   *
   * @param validator the extra validator, run last
   * @return the new stage
   */
  public ValidationStage with(GraphValidator validator) {
    List<GraphValidator> all = new ArrayList<>(validators);
    all.add(Objects.requireNonNull(validator, "validator"));
    return new ValidationStage(all, modelConfigValidator);
  }

  /**
   * The graph validators.
   *
   * @return an immutable list
   */
  public List<GraphValidator> validators() {
    return validators;
  }

  @Override
  public String name() {
    return NAME;
  }

  /**
   * Validates and returns the graph unchanged.
   *
   * @throws ValidationException listing every problem found
   */
  @Override
  public BuildGraph execute(BuildContext ctx, BuildGraph graph) {
    List<String> problems = new ArrayList<>();
    Optional<ModelConfig> config = ctx.config();
    if (modelConfigValidator != null && config.isPresent()) {
      for (String p : modelConfigValidator.validate(config.get())) {
        problems.add("model config '" + config.get().name() + "': " + p);
      }
    }
    for (GraphValidator v : validators) {
      problems.addAll(v.validate(graph));
    }
    ctx.tracer()
        .event(
            problems.isEmpty() ? TraceLevel.INFO : TraceLevel.ERROR,
            "validation " + (problems.isEmpty() ? "passed" : "found " + problems.size() + " problem(s)"),
            Map.of("validators", validators.size(), "problems", problems.size()));
    if (!problems.isEmpty()) {
      throw new ValidationException(
          "graph failed validation with "
              + problems.size()
              + " problem(s):\n  - "
              + String.join("\n  - ", problems));
    }
    return graph;
  }
}
