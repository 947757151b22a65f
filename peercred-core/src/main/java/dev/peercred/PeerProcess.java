package dev.peercred;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The process on the other end of a connection, as a handle that cannot be fooled by pid reuse.
 *
 * <p>Where the kernel offers {@code SO_PEERPIDFD} (Linux 6.5+), the handle holds a pidfd: anything
 * it reads from {@code /proc/<pid>} is checked against the pidfd afterwards, and if the process has
 * exited the read fails with {@link PeerProcessGoneException} instead of answering for whatever now
 * has that pid. Elsewhere it checks the process start time, a weaker guarantee that {@link
 * #isPinned()} reports as false.
 */
public interface PeerProcess {
  /** The process id in this pid namespace. */
  long pid();

  /** True when the handle is pinned to the process by a pidfd. */
  boolean isPinned();

  /** True while the process has not exited. */
  boolean isAlive();

  /** The executable's path ({@code /proc/<pid>/exe}). */
  Path executable() throws IOException;

  /** The command line ({@code /proc/<pid>/cmdline}). */
  List<String> commandLine() throws IOException;

  /** When the process started. */
  Instant startTime() throws IOException;

  /** The cgroup v2 path ({@code /proc/<pid>/cgroup}), such as {@code /system.slice/foo.service}. */
  Optional<String> cgroup() throws IOException;

  /** The parent process, pinned the same way; empty for pid 1 or a parent outside our namespace. */
  Optional<PeerProcess> parent() throws IOException;
}
