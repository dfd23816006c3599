/**
 * Aphelion's CPU engine on the Java Vector API: ternary packing, quantization and matrix
 * products, layers, the decoder, VSA, gradient compression and trainer utilities, and the
 * {@code tritter-accel} backend, and Hugging Face BitNet checkpoints. The Vector API is optional
 * ({@code requires static}): without {@code --add-modules jdk.incubator.vector} every kernel runs on
 * its scalar reference. So are DJL's tokenizers binding, needed only by {@code HfTokenizer}, and Jinjava, needed only by
 * {@code ChatTemplate}.
 */
module dev.aphelion.tritter {
  requires transitive dev.aphelion.core;
  requires static jdk.incubator.vector;
  requires org.slf4j;
  requires com.fasterxml.jackson.databind;
  // optional: HfTokenizer only (an automatic module; it reads ai.djl.api)
  requires static ai.djl.tokenizers;
  // optional: ChatTemplate only (an automatic module named after its jar)
  requires static jinjava;

  exports dev.aphelion.tritter.accel;
  exports dev.aphelion.tritter.compress;
  exports dev.aphelion.tritter.compute;
  exports dev.aphelion.tritter.dense;
  exports dev.aphelion.tritter.hf;
  exports dev.aphelion.tritter.io;
  exports dev.aphelion.tritter.kernel;
  exports dev.aphelion.tritter.model;
  exports dev.aphelion.tritter.nn;
  exports dev.aphelion.tritter.quant;
  exports dev.aphelion.tritter.random;
  exports dev.aphelion.tritter.ternary;
  exports dev.aphelion.tritter.train;
  exports dev.aphelion.tritter.vsa;

  provides dev.aphelion.core.backend.BackendProvider with
      dev.aphelion.tritter.accel.TritterAccelBackendProvider;
}
