/**
 * Aphelion's core: the model graph and its SHA-256 fingerprint, configuration, the build
 * pipeline, tracing, errors, and the backend service-provider interface that compute modules
 * implement.
 */
module dev.aphelion.core {
  requires transitive org.slf4j;
  requires com.fasterxml.jackson.databind;

  exports dev.aphelion.core.backend;
  exports dev.aphelion.core.config;
  exports dev.aphelion.core.error;
  exports dev.aphelion.core.graph;
  exports dev.aphelion.core.hash;
  exports dev.aphelion.core.io;
  exports dev.aphelion.core.pipeline;
  exports dev.aphelion.core.trace;

  uses dev.aphelion.core.backend.BackendProvider;

  provides dev.aphelion.core.backend.BackendProvider with
      dev.aphelion.core.backend.NullBackendProvider;
}
