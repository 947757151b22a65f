package dev.peercred.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Open file descriptors, of this process or another, from {@code /proc/PID/fd}. */
public final class Descriptors {
  private Descriptors() {}

  /** How many descriptors this process has open. */
  public static int count() throws IOException {
    return count(Path.of("/proc/self/fd"));
  }

  /** How many descriptors process {@code pid} has open. */
  public static int count(long pid) throws IOException {
    return count(Path.of("/proc", Long.toString(pid), "fd"));
  }

  private static int count(Path fdDir) throws IOException {
    try (Stream<Path> fds = Files.list(fdDir)) {
      return (int) fds.count() - (fdDir.startsWith("/proc/self") ? 1 : 0); // the listing's own
    }
  }

  /** What each open descriptor of this process points to, as {@code fd -> target}. */
  public static Map<Integer, String> snapshot() throws IOException {
    Map<Integer, String> map = new TreeMap<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          map.put(
              Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
        } catch (IOException e) {
          // closed meanwhile (the listing's own descriptor, for one)
        }
      }
    }
    return map;
  }

  /**
   * Waits, at most {@link Await#TIMEOUT}, until this process has no more descriptors open than
   * {@code baseline} (from {@link #snapshot()}); fails listing the extra ones.
   */
  public static void awaitBackTo(Map<Integer, String> baseline) throws InterruptedException {
    Await.until(
        "descriptors back to the baseline of " + baseline.size(),
        () -> snapshot().size() <= baseline.size(),
        () -> {
          Map<Integer, String> now = snapshot();
          now.entrySet().removeAll(baseline.entrySet());
          return "extra: " + now;
        });
  }
}
