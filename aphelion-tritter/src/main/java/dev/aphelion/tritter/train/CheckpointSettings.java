package dev.aphelion.tritter.train;

import dev.aphelion.core.error.AphelionException;
import dev.aphelion.core.error.ConfigException;
import dev.aphelion.core.error.ErrorCode;
import dev.aphelion.core.io.AtomicFiles;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where and how often data-parallel workers checkpoint. Serializable (the directory is kept as a
 * string) so that remote workers get the same settings; for a job across machines the directory
 * must be shared by all of them (a network file system).
 *
 * <p>After every {@code everySteps}-th step each worker writes its own file
 * {@code step-<steps done, 12 digits>.worker-<rank>-of-<workers>.ckpt} atomically
 * ({@link AtomicFiles}); the format is in {@code docs/training.md}. A checkpoint is complete when
 * every worker's file of that step is there. Each worker keeps its own newest {@code keep} files
 * and deletes older ones; since a worker cannot pass step {@code s + 1} before every worker wrote
 * its file of step {@code s}, the last complete checkpoint is always among each worker's newest
 * two, so {@code keep} is at least 2.
 *
 * @param directory the checkpoint directory (created if missing)
 * @param everySteps a checkpoint after every this many steps, at least 1
 * @param keep how many of its newest checkpoint files each worker keeps, at least 2
 */
public record CheckpointSettings(String directory, int everySteps, int keep) implements Serializable {
  private static final Pattern NAME = Pattern.compile("step-(\\d{12})\\.worker-(\\d+)-of-(\\d+)\\.ckpt");

  /** Checks the settings. */
  public CheckpointSettings {
    Objects.requireNonNull(directory, "directory");
    if (directory.isEmpty()) {
      throw new ConfigException("the checkpoint directory must not be empty");
    }
    if (everySteps < 1) {
      throw new ConfigException("checkpoint interval must be at least 1 step, got " + everySteps);
    }
    if (keep < 2) {
      throw new ConfigException("each worker must keep at least its 2 newest checkpoints (the last complete one may be the "
          + "older), got " + keep);
    }
  }

  /**
   * Checkpoints every {@code steps} steps into {@code directory}, keeping two per worker.
   *
   * @param directory the directory
   * @param steps the interval
   * @return the settings
   */
  public static CheckpointSettings every(Path directory, int steps) {
    return new CheckpointSettings(directory.toAbsolutePath().toString(), steps, 2);
  }

  /** The directory as a path. */
  public Path path() {
    return Path.of(directory);
  }

  /**
   * The file of one worker's checkpoint.
   *
   * @param steps the steps done when it was written
   * @param rank the worker
   * @param workers the number of workers
   * @return the path
   */
  public Path file(long steps, int rank, int workers) {
    return path().resolve(String.format(Locale.ROOT, "step-%012d.worker-%d-of-%d.ckpt", steps, rank, workers));
  }

  /**
   * The newest step for which every one of {@code workers} workers has a checkpoint file (only the
   * names are looked at; the contents are checked when a worker loads its file).
   *
   * @param workers the number of workers of the job
   * @return the steps done at that checkpoint, or -1 if there is none (or no directory)
   * @throws AphelionException with {@link ErrorCode#IO} if the directory cannot be listed
   */
  public long latestComplete(int workers) {
    Map<Long, TreeSet<Integer>> ranks = new TreeMap<>();
    for (Entry e : entries()) {
      if (e.workers == workers) {
        ranks.computeIfAbsent(e.steps, k -> new TreeSet<>()).add(e.rank);
      }
    }
    long best = -1;
    for (Map.Entry<Long, TreeSet<Integer>> e : ranks.entrySet()) {
      if (e.getValue().size() == workers) {
        best = e.getKey();
      }
    }
    return best;
  }

  /** Writes one worker's checkpoint atomically, then deletes that worker's files beyond the newest {@code keep}. */
  void write(TrainingCheckpoint c) {
    try {
      Files.createDirectories(path());
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot create the checkpoint directory " + directory + ": "
          + AtomicFiles.describe(e), e);
    }
    AtomicFiles.write(file(c.steps(), c.rank(), c.workers()), c.toBytes());
    List<Entry> mine = new ArrayList<>();
    for (Entry e : entries()) {
      if (e.rank == c.rank() && e.workers == c.workers()) {
        mine.add(e);
      }
    }
    mine.sort((a, b) -> Long.compare(b.steps, a.steps));
    for (Entry e : mine.subList(Math.min(keep, mine.size()), mine.size())) {
      try {
        Files.deleteIfExists(e.path);
      } catch (IOException ex) {
        throw new AphelionException(ErrorCode.IO, "cannot delete the old checkpoint " + e.path + ": " + AtomicFiles.describe(ex), ex);
      }
    }
  }

  /** Reads and checks one worker's checkpoint file. */
  TrainingCheckpoint read(long steps, int rank, int workers) {
    Path f = file(steps, rank, workers);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(f);
    } catch (NoSuchFileException e) {
      throw new AphelionException(ErrorCode.IO, "checkpoint " + f + " is missing (was it deleted while the job resumed?)", e);
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot read checkpoint " + f + ": " + AtomicFiles.describe(e), e);
    }
    return TrainingCheckpoint.parse(bytes, f.toString());
  }

  private record Entry(Path path, long steps, int rank, int workers) {}

  private List<Entry> entries() {
    Path dir = path();
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    List<Entry> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (m.matches()) {
          try {
            out.add(new Entry(p, Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))));
          } catch (NumberFormatException e) {
            // a name with a number out of range is not one of ours
          }
        }
      }
    } catch (IOException e) {
      throw new AphelionException(ErrorCode.IO, "cannot list the checkpoint directory " + dir + ": " + AtomicFiles.describe(e), e);
    }
    return out;
  }
}
