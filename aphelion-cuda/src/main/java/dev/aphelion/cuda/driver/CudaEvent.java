package dev.aphelion.cuda.driver;

import jcuda.driver.CUevent;
import jcuda.driver.JCudaDriver;

/** A CUDA event, for timing work on a stream on the device clock. */
public final class CudaEvent extends CudaResource {

  private final CUevent event;

  CudaEvent(CudaContext context, CUevent event) {
    super(context);
    this.event = event;
  }

  /**
   * Records the event on a stream.
   *
   * @param stream the stream
   */
  public void record(CudaStream stream) {
    ensureOpen();
    context().makeCurrent();
    CudaDriver.check(JCudaDriver.cuEventRecord(event, stream.handle()), "cuEventRecord");
  }

  /** Waits until the work before the event's last record has finished. */
  public void synchronize() {
    ensureOpen();
    context().makeCurrent();
    CudaDriver.check(JCudaDriver.cuEventSynchronize(event), "cuEventSynchronize");
  }

  /**
   * Device time between two recorded events (waits for this one).
   *
   * @param start the earlier event
   * @return milliseconds from {@code start} to this event
   */
  public float elapsedMillisSince(CudaEvent start) {
    synchronize();
    float[] ms = new float[1];
    CudaDriver.check(JCudaDriver.cuEventElapsedTime(ms, start.event, event), "cuEventElapsedTime");
    return ms[0];
  }

  @Override
  void release() {
    CudaDriver.check(JCudaDriver.cuEventDestroy(event), "cuEventDestroy");
  }
}
