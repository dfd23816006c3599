/**
 * Reading and writing weights: safetensors files ({@link dev.aphelion.tritter.io.SafeTensorsFile},
 * memory-mapped; {@link dev.aphelion.tritter.io.SafeTensorsWriter}) including Aphelion's packed
 * ternary convention described in docs/formats.md.
 */
package dev.aphelion.tritter.io;
