/**
 * Structured tracing: immutable {@link dev.aphelion.core.trace.TraceEvent}s recorded by a {@link
 * dev.aphelion.core.trace.Tracer} (optionally inside timed {@link dev.aphelion.core.trace.Span}s)
 * into {@link dev.aphelion.core.trace.TraceSink}s: a bounded in-memory ring buffer, SLF4J, a level
 * filter and a fan-out. {@link dev.aphelion.core.trace.TraceJsonLines} exports and imports events
 * as JSON Lines.
 */
package dev.aphelion.core.trace;
