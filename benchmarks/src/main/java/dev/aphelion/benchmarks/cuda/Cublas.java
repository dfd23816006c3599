package dev.aphelion.benchmarks.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The few cuBLAS calls the GPU benchmark needs (handle, stream, {@code cublasGemmEx}), reached
 * through {@code java.lang.foreign} downcalls into whatever {@code libcublas.so.*} the machine
 * has, so that the baseline is the installed cuBLAS itself (JCublas 12 would need
 * {@code libcublas.so.12}). Device pointers are raw addresses from JCuda allocations.
 */
final class Cublas implements AutoCloseable {

  static final int OP_N = 0;
  static final int OP_T = 1;
  static final int CUDA_R_32F = 0;
  static final int CUDA_R_16BF = 14;
  static final int COMPUTE_32F = 68;
  static final int GEMM_DEFAULT = -1;

  private final Arena arena = Arena.ofShared();
  private final Path path;
  private final MethodHandle destroy;
  private final MethodHandle setStream;
  private final MethodHandle gemmEx;
  private final MethodHandle setWorkspace;
  private final MemorySegment handle;
  private final MemorySegment one;
  private final MemorySegment zero;
  private final int version;

  private Cublas(Path path) throws Throwable {
    this.path = path;
    Linker linker = Linker.nativeLinker();
    // libcublas needs libcublasLt from the same folder; loading it first lets the dynamic linker
    // find it by soname even where libcublas has no RUNPATH.
    try (Stream<Path> s = Files.list(path.getParent())) {
      for (Path lt : s.filter(p -> p.getFileName().toString().startsWith("libcublasLt.so")).sorted().toList()) {
        try {
          SymbolLookup.libraryLookup(lt, arena);
          break;
        } catch (IllegalArgumentException ignored) {
          // try the next name
        }
      }
    }
    SymbolLookup lib = SymbolLookup.libraryLookup(path, arena);
    MethodHandle create = linker.downcallHandle(
        lib.find("cublasCreate_v2").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    destroy = linker.downcallHandle(
        lib.find("cublasDestroy_v2").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    setStream = linker.downcallHandle(
        lib.find("cublasSetStream_v2").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    MethodHandle getVersion = linker.downcallHandle(
        lib.find("cublasGetVersion_v2").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    setWorkspace = linker.downcallHandle(
        lib.find("cublasSetWorkspace_v2").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    ValueLayout i = ValueLayout.JAVA_INT;
    ValueLayout a = ValueLayout.ADDRESS;
    gemmEx = linker.downcallHandle(
        lib.find("cublasGemmEx").orElseThrow(),
        FunctionDescriptor.of(i, a, i, i, i, i, i, a, a, i, i, a, i, i, a, a, i, i, i, i));
    MemorySegment h = arena.allocate(ValueLayout.ADDRESS);
    check((int) create.invokeExact(h), "cublasCreate_v2");
    handle = h.get(ValueLayout.ADDRESS, 0);
    MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
    check((int) getVersion.invokeExact(handle, v), "cublasGetVersion_v2");
    version = v.get(ValueLayout.JAVA_INT, 0);
    one = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
    zero = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
  }

  /**
   * Finds and opens cuBLAS: {@code APHELION_CUBLAS} (a file), then {@code libcublas.so.13},
   * {@code .12} or {@code .so} in LD_LIBRARY_PATH, /usr/local/cuda*, /usr/lib/x86_64-linux-gnu and
   * the nvidia wheels of Python installations under /opt and /usr.
   */
  static Optional<Cublas> open(List<String> tried) {
    for (Path p : candidates()) {
      tried.add(p.toString());
      try {
        return Optional.of(new Cublas(p));
      } catch (Throwable t) {
        tried.add("  failed: " + t);
      }
    }
    return Optional.empty();
  }

  private static List<Path> candidates() {
    List<Path> dirs = new ArrayList<>();
    String env = System.getenv("APHELION_CUBLAS");
    List<Path> out = new ArrayList<>();
    if (env != null && !env.isBlank()) {
      out.add(Path.of(env));
    }
    String ld = System.getenv("LD_LIBRARY_PATH");
    if (ld != null) {
      for (String d : ld.split(":")) {
        if (!d.isBlank()) {
          dirs.add(Path.of(d));
        }
      }
    }
    dirs.add(Path.of("/usr/local/cuda/lib64"));
    dirs.add(Path.of("/usr/local/cuda/targets/x86_64-linux/lib"));
    try (Stream<Path> s = Files.list(Path.of("/usr/local"))) {
      s.filter(p -> p.getFileName().toString().startsWith("cuda-")).sorted().forEach(p -> {
        dirs.add(p.resolve("lib64"));
        dirs.add(p.resolve("targets/x86_64-linux/lib"));
      });
    } catch (IOException ignored) {
      // no /usr/local
    }
    dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
    for (Path root : new Path[] {Path.of("/opt"), Path.of("/usr/local/lib"), Path.of("/usr/lib")}) {
      try (Stream<Path> s = Files.find(root, 8, (p, attr) -> p.getFileName().toString().startsWith("libcublas.so")
          && p.toString().contains("nvidia"))) {
        s.map(Path::getParent).distinct().forEach(dirs::add);
      } catch (IOException | RuntimeException ignored) {
        // unreadable tree
      }
    }
    for (Path d : dirs) {
      for (String name : new String[] {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}) {
        Path p = d.resolve(name);
        if (Files.isRegularFile(p) && !out.contains(p)) {
          out.add(p);
        }
      }
    }
    return out;
  }

  Path path() {
    return path;
  }

  int version() {
    return version;
  }

  void setStream(long stream) throws Throwable {
    check((int) setStream.invokeExact(handle, MemorySegment.ofAddress(stream)), "cublasSetStream_v2");
  }

  /** Gives cuBLAS a fixed workspace, so that it allocates nothing while a graph is captured. */
  void setWorkspace(long address, long bytes) throws Throwable {
    check((int) setWorkspace.invokeExact(handle, MemorySegment.ofAddress(address), bytes), "cublasSetWorkspace_v2");
  }

  /**
   * {@code Y[batch][n] = X[batch][k] · W[n][k]^T} in bf16 with float accumulation, the way a linear
   * layer calls cuBLAS (column-major: {@code C(n x batch) = op_T(W) · X}).
   */
  void linearBf16(long w, long x, long y, int n, int batch, int k) throws Throwable {
    int r = (int) gemmEx.invokeExact(handle, OP_T, OP_N, n, batch, k, one,
        MemorySegment.ofAddress(w), CUDA_R_16BF, k,
        MemorySegment.ofAddress(x), CUDA_R_16BF, k,
        zero, MemorySegment.ofAddress(y), CUDA_R_16BF, n, COMPUTE_32F, GEMM_DEFAULT);
    check(r, "cublasGemmEx");
  }

  private static void check(int status, String what) {
    if (status != 0) {
      throw new IllegalStateException(what + " returned cuBLAS status " + status);
    }
  }

  @Override
  public void close() {
    try {
      check((int) destroy.invokeExact(handle), "cublasDestroy_v2");
    } catch (Throwable t) {
      throw new IllegalStateException("cublasDestroy_v2 failed", t);
    } finally {
      arena.close();
    }
  }
}
