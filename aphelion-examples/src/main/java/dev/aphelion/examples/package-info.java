/** Runnable examples of Aphelion; {@link dev.aphelion.examples.Demo} is {@code ./aphelion demo}. */
package dev.aphelion.examples;
