package dev.aphelion.cuda.driver;

/**
 * Base of every native object owned by a {@link CudaContext}: closing it frees the native object
 * once, closing the context closes whatever is still open, and using a closed object throws
 * {@link IllegalStateException}.
 */
public abstract sealed class CudaResource implements AutoCloseable
    permits DeviceBuffer, CudaModule, CudaStream, CudaEvent, CudaGraph {

  private final CudaContext context;
  private volatile boolean closed;

  CudaResource(CudaContext context) {
    this.context = context;
  }

  /**
   * The context that owns this object.
   *
   * @return the owning context
   */
  public CudaContext context() {
    return context;
  }

  /**
   * Whether {@link #close()} has run (directly or through the context).
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed;
  }

  final void ensureOpen() {
    if (closed) {
      throw new IllegalStateException(getClass().getSimpleName() + " is closed");
    }
  }

  /** Frees the native object; runs once, with the context current. */
  abstract void release();

  /** Frees the native object; calling it again has no effect. */
  @Override
  public final void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      if (!context.isClosed()) {
        context.makeCurrent();
        release();
      }
    } finally {
      context.unregister(this);
    }
  }
}
