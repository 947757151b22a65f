package dev.peercred.internal.linux;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Reads the socket options beyond {@code SO_PEERCRED} that describe a Unix socket's peer: its
 * supplementary groups, security label and a pidfd for its process (see {@code socket(7)} and
 * {@code unix(7)}). Each method takes a descriptor that the caller holds open for the call and
 * reports a failure by its errno, never by an exception; none of them blocks.
 */
public final class Identity {
  private Identity() {}

  /** Groups the first {@code SO_PEERGROUPS} call makes room for; most processes have fewer. */
  private static final int INITIAL_GROUPS = 32;

  /** {@code NGROUPS_MAX}, include/uapi/linux/limits.h: no process has more supplementary groups. */
  private static final int NGROUPS_MAX = 65536;

  /** Longest security label accepted; real SELinux contexts are well under 1 KiB. */
  private static final int MAX_LABEL = 1 << 16;

  /** The result of a read that can fail: the value, or the (positive) errno of the failure. */
  public record Result<T>(T value, int errno) {
    static <T> Result<T> ok(T value) {
      return new Result<>(value, 0);
    }

    static <T> Result<T> failed(int negativeErrno) {
      return new Result<>(null, -negativeErrno);
    }

    public boolean isOk() {
      return errno == 0;
    }
  }

  /**
   * The peer's supplementary group ids ({@code SO_PEERGROUPS}, Linux 4.13+), as the kernel wrote
   * them (unsigned 32-bit values in {@code int}s). On {@code ERANGE} the kernel writes the length
   * it needs into {@code optlen}; the read is retried once with that size.
   */
  public static Result<int[]> peerGroups(int fd) {
    int capacity = INITIAL_GROUPS;
    for (int attempt = 0; attempt < 3; attempt++) {
      int[] groups = new int[capacity];
      int[] length = {capacity * Integer.BYTES};
      int rc = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERGROUPS, groups, length);
      if (rc == 0) {
        if (length[0] < 0 || length[0] % Integer.BYTES != 0 || length[0] > groups.length * 4) {
          return Result.failed(-Errno.EINVAL);
        }
        return Result.ok(java.util.Arrays.copyOf(groups, length[0] / Integer.BYTES));
      }
      if (rc != -Errno.ERANGE) {
        return Result.failed(rc);
      }
      int needed = (length[0] + Integer.BYTES - 1) / Integer.BYTES;
      if (needed <= capacity || needed > NGROUPS_MAX) {
        return Result.failed(rc);
      }
      capacity = needed;
    }
    return Result.failed(-Errno.ERANGE);
  }

  /**
   * The peer's security label ({@code SO_PEERSEC}), without its trailing NUL. Fails with {@code
   * ENOPROTOOPT} where no security module provides labels, which the caller turns into "none".
   * Retried on {@code ERANGE} with the length the kernel asks for.
   */
  public static Result<String> peerSecurityLabel(int fd) {
    int capacity = 256;
    for (int attempt = 0; attempt < 3; attempt++) {
      byte[] label = new byte[capacity];
      int[] length = {capacity};
      int rc =
          LibC.getsockopt(
              fd, LibC.SOL_SOCKET, LibC.SO_PEERSEC, MemorySegment.ofArray(label), length);
      if (rc == 0) {
        int n = Math.min(Math.max(length[0], 0), label.length);
        while (n > 0 && label[n - 1] == 0) {
          n--;
        }
        return Result.ok(new String(label, 0, n, StandardCharsets.UTF_8));
      }
      if (rc != -Errno.ERANGE || length[0] <= capacity || length[0] > MAX_LABEL) {
        return Result.failed(rc);
      }
      capacity = length[0];
    }
    return Result.failed(-Errno.ERANGE);
  }

  /**
   * A new pidfd for the peer's process ({@code SO_PEERPIDFD}, Linux 6.5+), close-on-exec, owned by
   * the caller; or {@code -ENOPROTOOPT} on older kernels, {@code -ESRCH} or {@code -EINVAL} when
   * the process has already been reaped (depending on the kernel version), {@code -ENODATA} when
   * the socket has no peer process.
   */
  public static int peerPidfd(int fd) {
    int[] pidfd = {-1};
    int[] length = {Integer.BYTES};
    int rc = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERPIDFD, pidfd, length);
    if (rc < 0) {
      return rc;
    }
    if (length[0] != Integer.BYTES || pidfd[0] < 0) {
      if (pidfd[0] >= 0) {
        LibC.close(pidfd[0]);
      }
      return -Errno.EINVAL;
    }
    return pidfd[0];
  }

  private static volatile Boolean peerPidfdSupported;

  /**
   * True if this kernel gives pidfds for socket peers ({@code SO_PEERPIDFD}, Linux 6.5+); probed on
   * a socket pair until a probe gets an answer, never throws. False (and probed again next time)
   * where no system call can be made: another platform, native access denied, no descriptor left
   * for the socket pair.
   */
  public static boolean peerPidfdSupported() {
    Boolean supported = peerPidfdSupported;
    if (supported != null) {
      return supported;
    }
    if (!Platform.isSupported()) {
      return false;
    }
    int[] fds = new int[2];
    try {
      if (LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds) < 0) {
        return false;
      }
    } catch (UnsupportedOperationException e) {
      return false;
    }
    int pidfd = peerPidfd(fds[0]);
    if (pidfd >= 0) {
      LibC.close(pidfd);
    }
    LibC.close(fds[0]);
    LibC.close(fds[1]);
    if (pidfd >= 0 || pidfd == -Errno.ENOPROTOOPT) {
      peerPidfdSupported = pidfd >= 0; // an answer; EMFILE and the like are asked again
    }
    return pidfd >= 0;
  }
}
