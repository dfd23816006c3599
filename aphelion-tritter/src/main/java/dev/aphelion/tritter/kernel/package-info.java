/**
 * The foundation every CPU kernel stands on: the run-time choice between Vector API kernels and
 * their scalar references ({@link dev.aphelion.tritter.kernel.Vectorization}, which loads each family's
 * package-private Vector API class through that family's own {@link java.lang.invoke.MethodHandles.Lookup})
 * and the fixed thread pools that kernels split their rows across ({@link dev.aphelion.tritter.kernel.RowPool}).
 */
package dev.aphelion.tritter.kernel;
