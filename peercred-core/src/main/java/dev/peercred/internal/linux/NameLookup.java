package dev.peercred.internal.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.OptionalLong;

/**
 * Resolves user and group names to ids through the C library's name service switch ({@code
 * getpwnam_r(3)}, {@code getgrnam_r(3)}), so that LDAP or systemd users resolve like local ones.
 *
 * <p>These calls may read files or talk to a directory service; they are linked normally (not
 * critical) and use a confined arena per call.
 */
public final class NameLookup {
  private NameLookup() {}

  // struct passwd / struct group on LP64 (x86_64 and aarch64), <pwd.h> and <grp.h>:
  // passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; char *pw_gecos; char
  // *pw_dir;
  //          char *pw_shell; } = 48 bytes; group { char *gr_name; char *gr_passwd; gid_t gr_gid;
  //          char **gr_mem; } = 32 bytes.
  private static final long PASSWD_SIZE = 48;
  private static final long PW_UID_OFFSET = 16;
  private static final long GROUP_SIZE = 32;
  private static final long GR_GID_OFFSET = 16;
  private static final int MAX_BUFFER = 1 << 20;

  private static final FunctionDescriptor LOOKUP_BY_NAME =
      FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);

  /** Linked at the first lookup (see {@link NativeAccess}). */
  private static final class Handles {
    static final MethodHandle GETPWNAM_R = NativeAccess.link("getpwnam_r", LOOKUP_BY_NAME);
    static final MethodHandle GETGRNAM_R = NativeAccess.link("getgrnam_r", LOOKUP_BY_NAME);
  }

  /**
   * The uid of user {@code name}; empty if the user database has no such user.
   *
   * @throws IOException if the lookup itself fails (the name service is unreachable, ...)
   */
  public static OptionalLong uidOf(String name) throws IOException {
    return cached(UIDS, true, "getpwnam_r", name, PASSWD_SIZE, PW_UID_OFFSET);
  }

  /**
   * The gid of group {@code name}; empty if the group database has no such group.
   *
   * @throws IOException if the lookup itself fails
   */
  public static OptionalLong gidOf(String name) throws IOException {
    return cached(GIDS, false, "getgrnam_r", name, GROUP_SIZE, GR_GID_OFFSET);
  }

  /**
   * Answers, "no such name" included, are kept like {@link Nss}'s: a policy naming a group is
   * checked on every connection, and the user database is read at most every {@value
   * Nss#TTL_SECONDS} seconds per name.
   */
  private static final TtlCache<String, OptionalLong> UIDS =
      new TtlCache<>(Nss.CACHE_SIZE, Nss.TTL_SECONDS * 1_000_000_000L);

  private static final TtlCache<String, OptionalLong> GIDS =
      new TtlCache<>(Nss.CACHE_SIZE, Nss.TTL_SECONDS * 1_000_000_000L);

  private static OptionalLong cached(
      TtlCache<String, OptionalLong> cache,
      boolean user,
      String call,
      String name,
      long structSize,
      long idOffset)
      throws IOException {
    NativeAccess.check();
    OptionalLong id = cache.get(name);
    if (id == null) {
      id = lookup(user ? Handles.GETPWNAM_R : Handles.GETGRNAM_R, call, name, structSize, idOffset);
      cache.put(name, id);
    }
    return id;
  }

  /** Drops every cached answer (tests; after changing the user database). */
  public static void clearCache() {
    UIDS.clear();
    GIDS.clear();
  }

  private static OptionalLong lookup(
      MethodHandle handle, String call, String name, long structSize, long idOffset)
      throws IOException {
    if (name.isEmpty() || name.indexOf('\0') >= 0) {
      return OptionalLong.empty();
    }
    int bufferSize = 4096;
    while (true) {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment cName = arena.allocateFrom(name);
        MemorySegment struct = arena.allocate(structSize, 8);
        MemorySegment buffer = arena.allocate(bufferSize);
        MemorySegment result = arena.allocate(ADDRESS);
        int rc;
        try {
          rc = (int) handle.invokeExact(cName, struct, buffer, (long) bufferSize, result);
        } catch (Throwable t) {
          throw NativeAccess.failure(t);
        }
        if (rc == Errno.ERANGE && bufferSize < MAX_BUFFER) {
          bufferSize *= 4;
          continue;
        }
        if (rc == Errno.EINTR) {
          continue;
        }
        // "Not found" is rc 0 with a null result; glibc also reports it as ENOENT, ESRCH, EBADF
        // or EPERM depending on the backend (getpwnam_r(3), RETURN VALUE).
        if (rc == 0
            || rc == Errno.ENOENT
            || rc == Errno.ESRCH
            || rc == Errno.EBADF
            || rc == Errno.EPERM) {
          if (rc != 0 || result.get(ADDRESS, 0).equals(MemorySegment.NULL)) {
            return OptionalLong.empty();
          }
          return OptionalLong.of(Integer.toUnsignedLong(struct.get(JAVA_INT, idOffset)));
        }
        throw Errno.ioException(call, rc, "name=" + name);
      }
    }
  }
}
