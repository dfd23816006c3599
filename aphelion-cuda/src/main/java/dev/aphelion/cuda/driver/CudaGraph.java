package dev.aphelion.cuda.driver;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * An executable CUDA graph captured from a stream: replaying it launches the captured kernels
 * with one call, without per-kernel host overhead (used for timing short kernels).
 */
public final class CudaGraph extends CudaResource {

  private final CUgraph graph;
  private final CUgraphExec exec;

  private CudaGraph(CudaContext context, CUgraph graph, CUgraphExec exec) {
    super(context);
    this.graph = graph;
    this.exec = exec;
  }

  static CudaGraph capture(CudaContext context, CudaStream stream, Runnable work) {
    CudaDriver.check(
        JCudaDriver.cuStreamBeginCapture(stream.handle(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
        "cuStreamBeginCapture");
    CUgraph g = new CUgraph();
    try {
      work.run();
    } finally {
      int r = JCudaDriver.cuStreamEndCapture(stream.handle(), g);
      CudaDriver.check(r, "cuStreamEndCapture");
    }
    CUgraphExec e = new CUgraphExec();
    int r = JCudaDriver.cuGraphInstantiate(e, g, 0);
    if (r != 0) {
      JCudaDriver.cuGraphDestroy(g);
      CudaDriver.check(r, "cuGraphInstantiate");
    }
    return new CudaGraph(context, g, e);
  }

  /**
   * Queues one replay of the graph.
   *
   * @param stream the stream to replay on
   */
  public void launch(CudaStream stream) {
    ensureOpen();
    context().makeCurrent();
    CudaDriver.check(JCudaDriver.cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch");
  }

  @Override
  void release() {
    int a = JCudaDriver.cuGraphExecDestroy(exec);
    int b = JCudaDriver.cuGraphDestroy(graph);
    CudaDriver.check(a, "cuGraphExecDestroy");
    CudaDriver.check(b, "cuGraphDestroy");
  }
}
