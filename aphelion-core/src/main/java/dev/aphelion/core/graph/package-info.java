/**
 * The model graph: immutable {@link dev.aphelion.core.graph.BuildGraph} of {@link
 * dev.aphelion.core.graph.GraphNode}s and {@link dev.aphelion.core.graph.Edge}s, checked when
 * built (unique ids, known edge ends, no duplicate edges, no cycles), with a deterministic
 * topological order and DOT export.
 */
package dev.aphelion.core.graph;
