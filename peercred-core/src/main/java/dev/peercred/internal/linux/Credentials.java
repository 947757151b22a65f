package dev.peercred.internal.linux;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerCredentialsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;

/** Reads {@code SO_PEERCRED}, the process's own ids, and the facts needed to interpret them. */
public final class Credentials {
  private Credentials() {}

  /**
   * Reads the credentials of {@code fd}'s peer ({@code SO_PEERCRED}): the one reader of them, for
   * accepted, connected and borrowed descriptors alike. One {@code getsockopt(2)}; on success it
   * allocates two small arrays and the result, nothing else.
   *
   * @throws PeerCredentialsException with the errno of the failed call ({@code EINVAL} also when
   *     the kernel wrote a short {@code struct ucred})
   */
  public static PeerCredentials read(int fd) throws PeerCredentialsException {
    int[] ucred = new int[3]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
    int[] length = {LibC.UCRED_SIZE};
    int rc = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERCRED, ucred, length);
    if (rc < 0) {
      throw Errno.peerCredentialsException(-rc, "fd=" + fd);
    }
    if (length[0] != LibC.UCRED_SIZE) {
      throw Errno.peerCredentialsException(
          Errno.EINVAL, "fd=" + fd + ", struct ucred of " + length[0] + " bytes");
    }
    int pid = ucred[0]; // 0: the peer's pid is not visible in our pid namespace
    return new PeerCredentials(
        pid > 0 ? OptionalLong.of(pid) : OptionalLong.empty(),
        Integer.toUnsignedLong(ucred[1]),
        Integer.toUnsignedLong(ucred[2]));
  }

  public static long effectiveUid() {
    return LibC.geteuid();
  }

  public static long effectiveGid() {
    return LibC.getegid();
  }

  /** {@code /proc/sys/kernel/overflowuid}: what an id unmapped in our user namespace reads as. */
  public static final long OVERFLOW_UID = readLong("/proc/sys/kernel/overflowuid", 65534);

  /** {@code /proc/sys/kernel/overflowgid}. */
  public static final long OVERFLOW_GID = readLong("/proc/sys/kernel/overflowgid", 65534);

  /**
   * True when every kernel uid maps into our user namespace (the initial namespace), so that a uid
   * equal to {@link #OVERFLOW_UID} really is that user and not an unmapped one.
   */
  public static final boolean ALL_UIDS_MAPPED = coversAllIds("/proc/self/uid_map");

  /** Like {@link #ALL_UIDS_MAPPED}, for gids. */
  public static final boolean ALL_GIDS_MAPPED = coversAllIds("/proc/self/gid_map");

  private static long readLong(String file, long fallback) {
    try {
      // Not Files.readString: it reads only the first byte of a sysctl file (see Proc.readAll).
      return Long.parseLong(new String(Proc.readAll(Path.of(file))).trim());
    } catch (IOException | RuntimeException e) {
      return fallback;
    }
  }

  private static boolean coversAllIds(String file) {
    try {
      List<String> lines = Files.readAllLines(Path.of(file));
      long covered = 0;
      for (String line : lines) {
        String[] fields = line.trim().split("\\s+");
        if (fields.length == 3) {
          covered += Long.parseLong(fields[2]);
        }
      }
      // The initial namespace maps 0..4294967294 (4294967295 ids); (uid_t)-1 is never a valid id.
      return covered >= 0xFFFF_FFFFL;
    } catch (IOException | RuntimeException e) {
      return false; // unknown: treat the overflow id as unmapped, never as a real id
    }
  }
}
