/**
 * Reading and writing weights: safetensors files ({@link dev.aphelion.tritter.io.SafeTensorsFile},
 * memory-mapped; {@link dev.aphelion.tritter.io.SafeTensorsWriter}) including Aphelion's packed
 * ternary convention described in docs/formats.md, and {@link dev.aphelion.tritter.io.WeightSource},
 * the named-weight lookup that models load from.
 */
package dev.aphelion.tritter.io;
