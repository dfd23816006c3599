package dev.aphelion.cuda.driver;

import dev.aphelion.core.error.BackendException;
import java.util.Objects;
import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * A block of device memory. Copies to and from Java arrays are synchronous and ordered after all
 * work already queued on the context's blocking streams.
 */
public final class DeviceBuffer extends CudaResource {

  /** JCuda keeps the address protected; a subclass may read it for interop (cuBLAS downcalls). */
  static final class RawDevicePtr extends CUdeviceptr {
    long address() {
      return getNativePointer();
    }
  }

  private final RawDevicePtr ptr;
  private final long bytes;

  private DeviceBuffer(CudaContext context, RawDevicePtr ptr, long bytes) {
    super(context);
    this.ptr = ptr;
    this.bytes = bytes;
  }

  static DeviceBuffer allocate(CudaContext context, long bytes) {
    RawDevicePtr p = new RawDevicePtr();
    int r = JCudaDriver.cuMemAlloc(p, bytes);
    if (r != 0) {
      long[] mem = {0, 0};
      try {
        mem = context.memoryInfo();
      } catch (RuntimeException ignored) {
        // keep the original error
      }
      CudaDriver.check(r, "cuMemAlloc(" + bytes + " bytes; " + mem[0] + " of " + mem[1] + " free)");
    }
    return new DeviceBuffer(context, p, bytes);
  }

  /**
   * The size in bytes.
   *
   * @return the size
   */
  public long byteSize() {
    return bytes;
  }

  /**
   * The device address, for kernel arguments and interop with other CUDA libraries.
   *
   * @return the address
   */
  public long address() {
    ensureOpen();
    return ptr.address();
  }

  /**
   * The device address plus an offset.
   *
   * @param byteOffset offset in bytes, within the buffer
   * @return the address
   */
  public long address(long byteOffset) {
    Objects.checkIndex(byteOffset, bytes);
    return address() + byteOffset;
  }

  CUdeviceptr pointer() {
    ensureOpen();
    return ptr;
  }

  private void checkRange(long byteOffset, long count, String what) {
    ensureOpen();
    if (byteOffset < 0 || count < 0 || byteOffset + count > bytes) {
      throw new IndexOutOfBoundsException(
          what + ": bytes [" + byteOffset + ", " + (byteOffset + count) + ") outside a buffer of " + bytes);
    }
  }

  private void copyIn(Pointer src, long byteOffset, long count) {
    checkRange(byteOffset, count, "copy to device");
    if (count == 0) {
      return;
    }
    context().makeCurrent();
    CudaDriver.check(JCudaDriver.cuMemcpyHtoD(ptr.withByteOffset(byteOffset), src, count), "cuMemcpyHtoD");
  }

  private void copyOut(Pointer dst, long byteOffset, long count) {
    checkRange(byteOffset, count, "copy from device");
    if (count == 0) {
      return;
    }
    context().makeCurrent();
    CudaDriver.check(JCudaDriver.cuMemcpyDtoH(dst, ptr.withByteOffset(byteOffset), count), "cuMemcpyDtoH");
  }

  /**
   * Copies floats to the device.
   *
   * @param src the source
   * @param byteOffset where in this buffer the first float goes
   */
  public void write(float[] src, long byteOffset) {
    copyIn(Pointer.to(src), byteOffset, (long) src.length * Sizeof.FLOAT);
  }

  /**
   * Copies ints to the device.
   *
   * @param src the source
   * @param byteOffset where in this buffer the first int goes
   */
  public void write(int[] src, long byteOffset) {
    copyIn(Pointer.to(src), byteOffset, (long) src.length * Sizeof.INT);
  }

  /**
   * Copies shorts (for example bfloat16 bit patterns) to the device.
   *
   * @param src the source
   * @param byteOffset where in this buffer the first short goes
   */
  public void write(short[] src, long byteOffset) {
    copyIn(Pointer.to(src), byteOffset, (long) src.length * Sizeof.SHORT);
  }

  /**
   * Copies bytes to the device.
   *
   * @param src the source
   * @param byteOffset where in this buffer the first byte goes
   */
  public void write(byte[] src, long byteOffset) {
    copyIn(Pointer.to(src), byteOffset, src.length);
  }

  /**
   * Copies floats from the device.
   *
   * @param dst the destination, filled completely
   * @param byteOffset where in this buffer the first float is
   */
  public void read(float[] dst, long byteOffset) {
    copyOut(Pointer.to(dst), byteOffset, (long) dst.length * Sizeof.FLOAT);
  }

  /**
   * Copies ints from the device.
   *
   * @param dst the destination, filled completely
   * @param byteOffset where in this buffer the first int is
   */
  public void read(int[] dst, long byteOffset) {
    copyOut(Pointer.to(dst), byteOffset, (long) dst.length * Sizeof.INT);
  }

  /**
   * Copies bytes from the device.
   *
   * @param dst the destination, filled completely
   * @param byteOffset where in this buffer the first byte is
   */
  public void read(byte[] dst, long byteOffset) {
    copyOut(Pointer.to(dst), byteOffset, dst.length);
  }

  /**
   * Sets every byte to a value (synchronously).
   *
   * @param value the byte value
   */
  public void fill(byte value) {
    ensureOpen();
    context().makeCurrent();
    CudaDriver.check(JCudaDriver.cuMemsetD8(ptr, value, bytes), "cuMemsetD8");
  }

  /**
   * Copies bytes from another device buffer (synchronously).
   *
   * @param src the source buffer
   * @param srcOffset byte offset in the source
   * @param dstOffset byte offset in this buffer
   * @param count number of bytes
   */
  public void copyFrom(DeviceBuffer src, long srcOffset, long dstOffset, long count) {
    src.checkRange(srcOffset, count, "device copy source");
    checkRange(dstOffset, count, "device copy destination");
    context().makeCurrent();
    CudaDriver.check(
        JCudaDriver.cuMemcpyDtoD(ptr.withByteOffset(dstOffset), src.ptr.withByteOffset(srcOffset), count),
        "cuMemcpyDtoD");
  }

  @Override
  void release() {
    int r = JCudaDriver.cuMemFree(ptr);
    if (r != 0) {
      throw new BackendException("cuMemFree failed: " + jcuda.driver.CUresult.stringFor(r));
    }
  }
}
