package dev.peercred.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The programs tests drive as real processes. A test that needs one the machine lacks is skipped
 * with a message naming it (never passed silently); {@code .ci/run} installs them all.
 */
public final class Tools {
  private Tools() {}

  /**
   * The system's {@code python3}. Clients running as other users need it: an interpreter installed
   * under a private home directory is out of their reach.
   */
  public static final Path PYTHON3 = Path.of("/usr/bin/python3");

  /** {@code /usr/bin/python3}, or skips the calling test. */
  public static Path python3() {
    return require(PYTHON3);
  }

  /** {@code executable} if it can be run here, or skips the calling test saying so. */
  public static Path require(Path executable) {
    Assumptions.assumeTrue(
        Files.isExecutable(executable),
        "SKIPPED: " + executable + " is not installed; this test runs it (.ci/run installs it)");
    return executable;
  }

  /**
   * The program {@code name} from {@code PATH} (or the system directories), or skips the calling
   * test saying so.
   */
  public static Path require(String name) {
    return find(name)
        .orElseGet(
            () -> {
              Assumptions.abort(
                  "SKIPPED: "
                      + name
                      + " is not installed (not on PATH); this test runs it (.ci/run installs it)");
              throw new AssertionError("unreachable");
            });
  }

  /** Whether {@code name} is on {@code PATH} or in the system directories. */
  public static boolean isInstalled(String name) {
    return find(name).isPresent();
  }

  private static java.util.Optional<Path> find(String name) {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(File.pathSeparator)));
    }
    dirs.addAll(List.of("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"));
    for (String dir : dirs) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return java.util.Optional.of(candidate);
      }
    }
    return java.util.Optional.empty();
  }
}
