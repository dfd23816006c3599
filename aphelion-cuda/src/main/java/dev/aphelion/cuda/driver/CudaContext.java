package dev.aphelion.cuda.driver;

import dev.aphelion.core.error.BackendException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/**
 * A CUDA context on one device: the device's primary context, retained on creation and released
 * on {@link #close()}, so that libraries on the runtime API (cuBLAS) share it. Owns every buffer,
 * module, stream and event created through it and closes those still open when it closes.
 *
 * <p>Each operation makes the context current on the calling thread first, so a context may be
 * used from any thread, though not from two threads at once.
 */
public final class CudaContext implements AutoCloseable {

  private final CUdevice device;
  private final CUcontext context;
  private final CudaDeviceInfo info;
  private final Set<CudaResource> live = new LinkedHashSet<>();
  private volatile boolean closed;

  private CudaContext(CUdevice device, CUcontext context, CudaDeviceInfo info) {
    this.device = device;
    this.context = context;
    this.info = info;
  }

  /**
   * Retains the primary context of a device.
   *
   * @param ordinal the device ordinal (0 for the first GPU)
   * @return the context; close it when done
   * @throws BackendException if CUDA is unavailable or the ordinal does not exist
   */
  public static CudaContext create(int ordinal) {
    CudaDriver.Probe probe = CudaDriver.probe();
    if (!probe.available()) {
      throw new BackendException("CUDA is unavailable: " + probe.reason());
    }
    if (ordinal < 0 || ordinal >= probe.devices().size()) {
      throw new BackendException(
          "no CUDA device with ordinal " + ordinal + " (" + probe.devices().size() + " present)");
    }
    CUdevice dev = new CUdevice();
    CudaDriver.check(JCudaDriver.cuDeviceGet(dev, ordinal), "cuDeviceGet(" + ordinal + ")");
    CUcontext ctx = new CUcontext();
    CudaDriver.check(JCudaDriver.cuDevicePrimaryCtxRetain(ctx, dev), "cuDevicePrimaryCtxRetain");
    try {
      CudaDriver.check(JCudaDriver.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    } catch (BackendException e) {
      JCudaDriver.cuDevicePrimaryCtxRelease(dev);
      throw e;
    }
    return new CudaContext(dev, ctx, probe.devices().get(ordinal));
  }

  /**
   * The device's properties.
   *
   * @return the device info
   */
  public CudaDeviceInfo device() {
    return info;
  }

  /**
   * Whether the context has been closed.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed;
  }

  /**
   * Makes this context current on the calling thread.
   *
   * @throws IllegalStateException if closed
   */
  public void makeCurrent() {
    ensureOpen();
    CudaDriver.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  /**
   * Allocates uninitialised device memory.
   *
   * @param bytes the size, at least 1
   * @return the buffer
   * @throws BackendException if the allocation fails (for example out of memory)
   */
  public DeviceBuffer allocate(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("buffer size must be positive, got " + bytes);
    }
    makeCurrent();
    return register(DeviceBuffer.allocate(this, bytes));
  }

  /**
   * Loads a module from a fatbin, cubin or NUL-terminated PTX image.
   *
   * @param image the image bytes
   * @return the module
   * @throws BackendException if the driver rejects the image (for example no code for this GPU)
   */
  public CudaModule loadModule(byte[] image) {
    makeCurrent();
    CUmodule module = new CUmodule();
    CudaDriver.check(JCudaDriver.cuModuleLoadData(module, image), "cuModuleLoadData");
    return register(new CudaModule(this, module));
  }

  /**
   * Creates a stream that synchronises with the legacy default stream (so synchronous copies
   * order with its work).
   *
   * @return the stream
   */
  public CudaStream createStream() {
    makeCurrent();
    return register(CudaStream.create(this));
  }

  /**
   * Creates an event with timing enabled.
   *
   * @return the event
   */
  public CudaEvent createEvent() {
    makeCurrent();
    CUevent e = new CUevent();
    CudaDriver.check(JCudaDriver.cuEventCreate(e, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate");
    return register(new CudaEvent(this, e));
  }

  /**
   * Captures the work that {@code work} queues on {@code stream} into an executable graph (the
   * work is recorded, not run).
   *
   * @param stream the stream the work is queued on
   * @param work queues kernels on {@code stream} only
   * @return the graph
   */
  public CudaGraph capture(CudaStream stream, Runnable work) {
    makeCurrent();
    return register(CudaGraph.capture(this, stream, work));
  }

  /** Waits for all work on the device in this context, and reports asynchronous errors. */
  public void synchronize() {
    makeCurrent();
    CudaDriver.check(JCudaDriver.cuCtxSynchronize(), "cuCtxSynchronize");
  }

  /**
   * Free and total device memory.
   *
   * @return {free, total} in bytes
   */
  public long[] memoryInfo() {
    makeCurrent();
    long[] free = new long[1];
    long[] total = new long[1];
    CudaDriver.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
    return new long[] {free[0], total[0]};
  }

  /**
   * How many buffers, modules, streams and events are still open.
   *
   * @return the count
   */
  public int liveResources() {
    synchronized (live) {
      return live.size();
    }
  }

  private <T extends CudaResource> T register(T r) {
    synchronized (live) {
      live.add(r);
    }
    return r;
  }

  void unregister(CudaResource r) {
    synchronized (live) {
      live.remove(r);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("CudaContext is closed");
    }
  }

  /** Closes every resource still open (newest first), then releases the primary context. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    List<CudaResource> open;
    synchronized (live) {
      open = new ArrayList<>(live);
    }
    RuntimeException first = null;
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    closed = true;
    int r = JCudaDriver.cuDevicePrimaryCtxRelease(device);
    if (first != null) {
      throw first;
    }
    CudaDriver.check(r, "cuDevicePrimaryCtxRelease");
  }
}
