package dev.aphelion.cuda.driver;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.JCudaDriver;

/**
 * One kernel of a {@link CudaModule}. Arguments are passed in declaration order: {@link
 * DeviceBuffer} (its address), {@link Integer}, {@link Float} and {@link Long} (a raw 64-bit value,
 * for example a device address plus an offset).
 */
public final class CudaKernel {

  private final CudaModule module;
  private final String name;
  private final CUfunction function;

  CudaKernel(CudaModule module, String name, CUfunction function) {
    this.module = module;
    this.name = name;
    this.function = function;
  }

  /**
   * The kernel's name.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Allows the kernel more dynamic shared memory than the default 48 KiB.
   *
   * @param bytes the largest dynamic shared memory size a launch will ask for
   */
  public void setMaxDynamicSharedMemory(int bytes) {
    module.ensureOpen();
    module.context().makeCurrent();
    CudaDriver.check(
        JCudaDriver.cuFuncSetAttribute(
            function, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
        "cuFuncSetAttribute(" + name + ", max dynamic shared memory " + bytes + ")");
  }

  /**
   * Registers per thread the compiler gave this kernel.
   *
   * @return the register count
   */
  public int registers() {
    module.ensureOpen();
    module.context().makeCurrent();
    int[] v = new int[1];
    CudaDriver.check(
        JCudaDriver.cuFuncGetAttribute(v, CUfunction_attribute.CU_FUNC_ATTRIBUTE_NUM_REGS, function),
        "cuFuncGetAttribute(" + name + ")");
    return v[0];
  }

  /**
   * Queues the kernel on a stream. Launch errors are reported here; errors during execution at
   * the next synchronisation.
   *
   * @param stream the stream
   * @param grid grid size {x, y, z} (missing entries are 1)
   * @param block block size {x, y, z} (missing entries are 1)
   * @param sharedBytes dynamic shared memory per block
   * @param args the kernel arguments
   */
  public void launch(CudaStream stream, int[] grid, int[] block, int sharedBytes, Object... args) {
    module.ensureOpen();
    Pointer[] params = new Pointer[args.length];
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      params[i] =
          switch (a) {
            case DeviceBuffer b -> Pointer.to(b.pointer());
            case Integer v -> Pointer.to(new int[] {v});
            case Float v -> Pointer.to(new float[] {v});
            case Long v -> Pointer.to(new long[] {v});
            case null -> throw new IllegalArgumentException(name + ": argument " + i + " is null");
            default ->
                throw new IllegalArgumentException(
                    name + ": argument " + i + " has unsupported type " + a.getClass().getName());
          };
    }
    module.context().makeCurrent();
    CudaDriver.check(
        JCudaDriver.cuLaunchKernel(
            function,
            dim(grid, 0), dim(grid, 1), dim(grid, 2),
            dim(block, 0), dim(block, 1), dim(block, 2),
            sharedBytes,
            stream.handle(),
            Pointer.to(params),
            null),
        "cuLaunchKernel(" + name + ")");
  }

  private static int dim(int[] d, int i) {
    return i < d.length ? d[i] : 1;
  }
}
