package dev.peercred.internal.linux;

import dev.peercred.PeerCredentialsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Reads {@code SO_PEERCRED} and the facts needed to interpret it. */
public final class Credentials {
  private Credentials() {}

  /**
   * Reads {@code struct ucred} of {@code fd}'s peer into {@code out} as {pid, uid, gid}.
   *
   * @return 0, or {@code -errno}; {@code -EINVAL} also when the kernel returned a short structure
   */
  public static int peerCred(int fd, int[] out) {
    int[] length = {LibC.UCRED_SIZE};
    int rc = LibC.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_PEERCRED, out, length);
    if (rc < 0) {
      return rc;
    }
    return length[0] == LibC.UCRED_SIZE ? 0 : -Errno.EINVAL;
  }

  /** Reads the peer credentials of an arbitrary descriptor, throwing on failure. */
  public static int[] peerCred(int fd) throws PeerCredentialsException {
    Platform.ensureSupported();
    int[] out = new int[3];
    int rc = peerCred(fd, out);
    if (rc < 0) {
      throw Errno.peerCredentialsException(-rc, "fd=" + fd);
    }
    return out;
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
