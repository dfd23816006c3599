/** The fixed thread pools that CPU kernels split their rows across; see {@link dev.aphelion.tritter.parallel.RowPool}. */
package dev.aphelion.tritter.parallel;
