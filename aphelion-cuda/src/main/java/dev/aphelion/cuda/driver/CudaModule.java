package dev.aphelion.cuda.driver;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/** A loaded module (fatbin, cubin or PTX); its kernels are valid while it is open. */
public final class CudaModule extends CudaResource {

  private final CUmodule module;

  CudaModule(CudaContext context, CUmodule module) {
    super(context);
    this.module = module;
  }

  /**
   * Looks up an {@code extern "C"} kernel.
   *
   * @param name the kernel's name
   * @return the kernel
   * @throws dev.aphelion.core.error.BackendException if the module has no such kernel
   */
  public CudaKernel kernel(String name) {
    ensureOpen();
    context().makeCurrent();
    CUfunction f = new CUfunction();
    CudaDriver.check(JCudaDriver.cuModuleGetFunction(f, module, name), "cuModuleGetFunction(" + name + ")");
    return new CudaKernel(this, name, f);
  }

  @Override
  void release() {
    CudaDriver.check(JCudaDriver.cuModuleUnload(module), "cuModuleUnload");
  }
}
