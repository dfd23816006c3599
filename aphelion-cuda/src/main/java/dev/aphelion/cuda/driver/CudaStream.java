package dev.aphelion.cuda.driver;

import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/** A CUDA stream: work queued on it runs in order. */
public final class CudaStream extends CudaResource {

  /** JCuda keeps the handle protected; a subclass may read it for interop (cuBLAS downcalls). */
  static final class RawStream extends CUstream {
    long handle() {
      return getNativePointer();
    }
  }

  private final RawStream stream;

  private CudaStream(CudaContext context, RawStream stream) {
    super(context);
    this.stream = stream;
  }

  static CudaStream create(CudaContext context) {
    RawStream s = new RawStream();
    CudaDriver.check(JCudaDriver.cuStreamCreate(s, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
    return new CudaStream(context, s);
  }

  CUstream handle() {
    ensureOpen();
    return stream;
  }

  /**
   * The native {@code CUstream} value, for interop with other CUDA libraries.
   *
   * @return the handle
   */
  public long nativeHandle() {
    ensureOpen();
    return stream.handle();
  }

  /** Waits until all queued work has finished; reports asynchronous errors. */
  public void synchronize() {
    ensureOpen();
    context().makeCurrent();
    CudaDriver.check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
  }

  @Override
  void release() {
    CudaDriver.check(JCudaDriver.cuStreamDestroy(stream), "cuStreamDestroy");
  }
}
