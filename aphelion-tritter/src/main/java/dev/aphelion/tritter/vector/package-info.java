/**
 * Run-time choice between the Vector API kernels and their scalar references; see {@link
 * dev.aphelion.tritter.vector.Vectorization}.
 */
package dev.aphelion.tritter.vector;
