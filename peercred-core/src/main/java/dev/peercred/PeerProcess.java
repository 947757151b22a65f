package dev.peercred;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The process on the other end of a connection, as a handle that cannot be fooled by pid reuse.
 *
 * <p>Where the kernel offers {@code SO_PEERPIDFD} (Linux 6.5+), the handle holds a pidfd for the
 * very process that connected. Anything it reads from {@code /proc/<pid>} is checked afterwards:
 * the start time must be the one captured when the handle was made, the process must not have
 * exited, and the pidfd's process must not have been reaped (so the pid still named it during the
 * read). If the process has exited, the read fails with {@link PeerProcessGoneException} instead of
 * answering for whatever now has that pid; no value read before a failed check is returned.
 *
 * <p>Elsewhere the handle knows the process by pid and start time only, and {@link #isPinned()} is
 * false: exits after the handle was made are still caught, but a pid reused before it was made is
 * not. See {@code docs/identity.md}.
 *
 * <p>{@link #executable()}, {@link #commandLine()} and {@link #cgroup()} are live: read at each
 * call, so they show what the process runs now (it may have called {@code execve(2)} since it
 * connected). The handle is owned by its {@link PeerIdentity} and closed with it; afterwards every
 * read fails with {@link java.nio.channels.ClosedChannelException}. Safe for use by several
 * threads.
 */
public interface PeerProcess {
  /** The process id in this pid namespace. */
  long pid();

  /** True when the handle is pinned to the process by a pidfd, false when it checks start times. */
  boolean isPinned();

  /**
   * True while the process has not exited (a zombie has) and the handle is open; never throws. Only
   * a snapshot: the process may exit right after.
   */
  boolean isAlive();

  /**
   * The path of the executable the process runs now ({@code /proc/<pid>/exe}), verified.
   *
   * @throws PeerProcessGoneException if the process has exited
   * @throws IOException if it cannot be read, for example {@link
   *     java.nio.file.AccessDeniedException} for another user's process without {@code
   *     CAP_SYS_PTRACE}
   */
  Path executable() throws IOException;

  /**
   * The command line ({@code /proc/<pid>/cmdline}) as the process shows it now, verified; empty for
   * a kernel thread.
   *
   * @throws PeerProcessGoneException if the process has exited
   */
  List<String> commandLine() throws IOException;

  /**
   * When the process started ({@code /proc/<pid>/stat} field 22, captured when the handle was
   * made). It identifies the process, so it stays available after the process exits.
   */
  Instant startTime() throws IOException;

  /**
   * The cgroup v2 path ({@code /proc/<pid>/cgroup}), such as {@code /system.slice/foo.service};
   * empty where the process is in no v2 hierarchy. Verified like every read.
   *
   * @throws PeerProcessGoneException if the process has exited
   */
  Optional<String> cgroup() throws IOException;

  /**
   * The parent process, pinned the same way; empty for pid 1 or a parent outside our pid namespace.
   * Made on the first call and then kept; a parent that exits later reads as gone.
   *
   * @throws PeerProcessGoneException if this process has exited
   */
  Optional<PeerProcess> parent() throws IOException;
}
