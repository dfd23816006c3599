/**
 * Model configuration: {@link dev.aphelion.core.config.ModelConfig} (name, semantic version,
 * typed params as {@link dev.aphelion.core.config.ConfigValue}s), presets, validators and JSON
 * load/save with an exact round trip.
 */
package dev.aphelion.core.config;
