/**
 * File output that never leaves a half-written file: {@link dev.aphelion.core.io.AtomicFiles}.
 */
package dev.aphelion.core.io;
