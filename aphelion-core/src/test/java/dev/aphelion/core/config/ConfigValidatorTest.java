package dev.aphelion.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.error.ValidationException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigValidatorTest {
  @Test
  void presetsPassTheStandardRules() {
    for (ModelConfig c : List.of(ModelConfigs.small(), ModelConfigs.medium(), ModelConfigs.large())) {
      assertEquals(List.of(), ConfigValidators.standard().validate(c));
      assertSame(c, ConfigValidators.standard().check(c));
    }
  }

  @Test
  void compositeReportsAllFailuresInOneException() {
    ModelConfig bad =
        ModelConfig.builder("bad", "1.0.0")
            .param("hidden_size", 0)
            .param("dropout", 1.5)
            .param("activation", "swish")
            .build();
    CompositeValidator v =
        ConfigValidators.standard()
            .and(c -> List.of("custom rule failed"))
            .and(
                c -> {
                  throw new IllegalStateException("boom");
                });
    ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> v.check(bad));
    assertEquals(ErrorCode.VALIDATION, e.code());
    assertTrue(e instanceof ValidationException);
    assertEquals("bad", e.configName());
    List<String> f = e.failures();
    assertEquals(6, f.size(), f.toString());
    assertTrue(f.get(0).contains("'num_layers' is required"), f.toString());
    assertTrue(f.get(1).contains("'hidden_size' = 0 is outside [1, "), f.toString());
    assertTrue(f.get(2).contains("'dropout' = 1.5 is outside [0.0, 1.0)"), f.toString());
    assertTrue(f.get(3).contains("'activation' = 'swish' is not one of"), f.toString());
    assertEquals("custom rule failed", f.get(4));
    assertTrue(f.get(5).contains("boom"), f.toString());
    for (String failure : f) {
      assertTrue(e.getMessage().contains(failure), e.getMessage());
    }
  }

  @Test
  void wrongTypesAreFailuresToo() {
    ModelConfig c =
        ModelConfig.builder("t", "1.0.0").param("hidden_size", "big").param("num_layers", 2.0).build();
    List<String> f = ConfigValidators.standard().validate(c);
    assertEquals(2, f.size(), f.toString());
    assertTrue(f.get(0).contains("'hidden_size' has type string, expected long"), f.toString());
    assertTrue(f.get(1).contains("'num_layers' has type double, expected long"), f.toString());
  }

  @Test
  void lambdaValidators() {
    ConfigValidator nameRule =
        c -> c.name().isBlank() ? List.of("name must not be blank") : List.of();
    assertEquals(List.of("name must not be blank"), nameRule.validate(ModelConfig.of(" ", "1.0.0")));
    assertThrows(ConfigValidationException.class, () -> nameRule.check(ModelConfig.of("", "1.0.0")));
    assertEquals(2, ConfigValidator.all(nameRule, nameRule).validate(ModelConfig.of("", "1.0.0")).size());
  }
}
