package dev.peercred;

import dev.peercred.internal.linux.Errno;
import dev.peercred.internal.linux.Fd;
import dev.peercred.internal.linux.Pidfd;
import dev.peercred.internal.linux.Proc;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link PeerProcess} on Linux: a pid, the start time captured when the handle was made and,
 * where the kernel gives one, a pidfd. Every read from {@code /proc/<pid>} is followed by a check
 * that the process is still the one the handle was made for: same start time, not exited, and
 * (pinned) the pidfd's process not reaped, which proves that the pid still named it during the
 * read. Owned by a {@link PeerIdentity}, which closes it.
 */
final class LinuxPeerProcess implements PeerProcess {
  private final long pid;
  private final Fd pidfd; // null: not pinned, start time only
  private final long startTicks;
  private final ReentrantLock lock = new ReentrantLock();
  private boolean parentResolved;
  private LinuxPeerProcess parent;
  private volatile boolean closed;

  /**
   * Closes the pidfd if the handle is dropped unclosed (an identity from {@link
   * PeerIdentity#read(int)} that its caller never closed); the action holds only the {@link Fd}.
   */
  private final Cleaner.Cleanable cleanable;

  private static final Cleaner CLEANER = Cleaner.create();

  private LinuxPeerProcess(long pid, Fd pidfd, long startTicks) {
    this.pid = pid;
    this.pidfd = pidfd;
    this.startTicks = startTicks;
    this.cleanable = pidfd == null ? null : CLEANER.register(this, pidfd::close);
  }

  /**
   * Makes a handle for {@code pid}, taking ownership of {@code pidfd} (-1 for none) even when it
   * fails. With a pidfd, checks that {@code /proc} shows the pidfd's process under {@code pid}
   * (same pid namespace) before trusting anything read there.
   *
   * @throws PeerProcessGoneException if the process has exited
   */
  static LinuxPeerProcess open(long pid, int pidfd) throws IOException {
    if (pidfd < 0) {
      Proc.Stat stat = statOrGone(pid);
      if (stat.hasExited()) {
        throw gone(pid);
      }
      return new LinuxPeerProcess(pid, null, stat.startTicks());
    }
    Fd fd = Fd.adopt(pidfd);
    try {
      long shown = Pidfd.fdinfoPid(pidfd);
      if (shown == -1) {
        throw gone(pid);
      }
      if (shown != pid) {
        throw new IOException(
            "/proc shows process "
                + pid
                + " as pid "
                + shown
                + ": /proc is not mounted for this process's pid namespace");
      }
      Proc.Stat stat = statOrGone(pid);
      if (stat.hasExited() || !isUnreaped(Pidfd.checkAlive(pidfd), pid)) {
        throw gone(pid);
      }
      return new LinuxPeerProcess(pid, fd, stat.startTicks());
    } catch (IOException | RuntimeException | Error e) {
      fd.close();
      throw e;
    }
  }

  private static Proc.Stat statOrGone(long pid) throws IOException {
    try {
      return Proc.stat(pid);
    } catch (NoSuchFileException e) {
      throw gone(pid);
    } catch (IOException e) {
      if (!Files.exists(Proc.dir(pid))) {
        throw gone(pid); // reaped while being read (ESRCH)
      }
      throw e;
    }
  }

  private static PeerProcessGoneException gone(long pid) {
    return new PeerProcessGoneException("peer process " + pid + " has exited");
  }

  @Override
  public long pid() {
    return pid;
  }

  @Override
  public boolean isPinned() {
    return pidfd != null;
  }

  @Override
  public boolean isAlive() {
    try {
      verify();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Throws unless the process is still the one this handle was made for and has not exited. Called
   * after every read from {@code /proc/<pid>}: reading the start time and then finding the pidfd's
   * process not yet reaped proves that the pid named it throughout.
   */
  private void verify() throws IOException {
    if (closed) {
      throw new ClosedChannelException();
    }
    Proc.Stat stat = statOrGone(pid);
    if (stat.startTicks() != startTicks || stat.hasExited()) {
      throw gone(pid);
    }
    if (pidfd != null) {
      int fd = pidfd.acquire();
      int rc;
      try {
        rc = Pidfd.checkAlive(fd);
      } finally {
        pidfd.release();
      }
      if (!isUnreaped(rc, pid)) {
        throw gone(pid);
      }
    }
  }

  /**
   * Interprets {@code pidfd_send_signal(pidfd, 0)}: 0 and {@code EPERM} (we may not signal it: it
   * runs as another user or in a user namespace we have no rights over) both mean that the process
   * has not been reaped; {@code ESRCH} means it has.
   *
   * @throws IOException for any other error
   */
  private static boolean isUnreaped(int rc, long pid) throws IOException {
    if (rc == 0 || rc == -Errno.EPERM) {
      return true;
    }
    if (rc == -Errno.ESRCH) {
      return false;
    }
    throw Errno.ioException("pidfd_send_signal", -rc, "pid=" + pid);
  }

  private interface ProcRead<T> {
    T read(Path dir) throws IOException;
  }

  /** Reads from {@code /proc/<pid>}, then verifies; a failed read of a gone process says gone. */
  private <T> T read(ProcRead<T> reader) throws IOException {
    if (closed) {
      throw new ClosedChannelException();
    }
    T value;
    try {
      value = reader.read(Proc.dir(pid));
    } catch (IOException e) {
      verify();
      throw e;
    }
    verify();
    return value;
  }

  @Override
  public Path executable() throws IOException {
    return read(dir -> Files.readSymbolicLink(dir.resolve("exe")));
  }

  @Override
  public List<String> commandLine() throws IOException {
    return read(
        dir -> {
          byte[] bytes = Proc.readAll(dir.resolve("cmdline"));
          List<String> arguments = new ArrayList<>();
          int start = 0;
          for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
              arguments.add(new String(bytes, start, i - start, StandardCharsets.UTF_8));
              start = i + 1;
            }
          }
          if (start < bytes.length) {
            arguments.add(new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8));
          }
          return Collections.unmodifiableList(arguments);
        });
  }

  /**
   * The start time captured when the handle was made. It identifies the process, so it stays
   * available after the process exits.
   */
  @Override
  public Instant startTime() throws IOException {
    return Proc.instantAfterBoot(startTicks);
  }

  @Override
  public Optional<String> cgroup() throws IOException {
    return read(
        dir -> {
          String text = new String(Proc.readAll(dir.resolve("cgroup")), StandardCharsets.UTF_8);
          for (String line : text.split("\n")) {
            if (line.startsWith("0::")) {
              return Optional.of(line.substring(3));
            }
          }
          return Optional.empty();
        });
  }

  @Override
  public Optional<PeerProcess> parent() throws IOException {
    lock.lock();
    try {
      if (closed) {
        throw new ClosedChannelException();
      }
      if (!parentResolved) {
        parent = openParent();
        parentResolved = true;
      }
      return Optional.ofNullable(parent);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Pins the parent: reads our parent pid, opens that pid, then reads our parent pid again. If the
   * parent had exited in between, we would have been given a new parent (a reaper, whose pid
   * differs), so an unchanged parent pid proves the handle names our parent.
   */
  private LinuxPeerProcess openParent() throws IOException {
    for (int attempt = 0; attempt < 5; attempt++) {
      long ppid = read(dir -> Proc.stat(pid)).ppid();
      if (ppid <= 0) {
        return null; // pid 1, or a parent outside this pid namespace
      }
      LinuxPeerProcess candidate;
      if (pidfd != null) {
        int fd = Pidfd.open(ppid);
        if (fd == -Errno.ESRCH) {
          continue; // the parent exited: we have been or are being reparented
        }
        if (fd < 0) {
          throw Errno.ioException("pidfd_open", -fd, "pid=" + ppid);
        }
        try {
          candidate = open(ppid, fd);
        } catch (PeerProcessGoneException e) {
          continue;
        }
      } else {
        try {
          candidate = open(ppid, -1);
        } catch (PeerProcessGoneException e) {
          continue;
        }
      }
      if (read(dir -> Proc.stat(pid)).ppid() == ppid) {
        return candidate;
      }
      candidate.close();
    }
    throw new IOException("the parent of process " + pid + " kept changing");
  }

  /** Closes the pidfd and the parent's; reads fail afterwards. Idempotent. */
  void close() {
    lock.lock();
    try {
      closed = true;
      if (cleanable != null) {
        cleanable.clean(); // closes the pidfd, once
      }
      if (parent != null) {
        parent.close();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "PeerProcess[pid=" + pid + (pidfd != null ? ", pinned" : ", start time only") + "]";
  }
}
