/**
 * Aphelion's exception hierarchy: unchecked exceptions rooted at {@link
 * dev.aphelion.core.error.AphelionException}, each with a stable {@link
 * dev.aphelion.core.error.ErrorCode} and a chained cause.
 */
package dev.aphelion.core.error;
