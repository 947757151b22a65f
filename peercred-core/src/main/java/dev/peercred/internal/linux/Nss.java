package dev.peercred.internal.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * User and group names from the system's name service switch ({@code getpwuid_r(3)}, {@code
 * getgrgid_r(3)}), so that LDAP, SSSD or systemd-homed users resolve as they do for {@code id(1)}.
 *
 * <p>A lookup may do I/O (a network directory, a daemon), so the functions are linked as ordinary
 * (not critical) downcalls with their buffers in a confined arena, and a virtual thread hands the
 * call to a small pool of platform threads and parks instead of pinning its carrier. Answers,
 * including "no such id", are kept in a bounded cache ({@value #CACHE_SIZE} entries per kind, for
 * {@value #TTL_SECONDS} seconds), so that a renamed or removed account is seen soon.
 */
public final class Nss {
  private Nss() {}

  static final int CACHE_SIZE = 256;
  static final long TTL_SECONDS = 30;
  private static final long TTL_NANOS = TTL_SECONDS * 1_000_000_000L;

  /** Largest buffer tried before giving up on {@code ERANGE}. */
  private static final long MAX_BUFFER = 1 << 20;

  // struct passwd and struct group, <pwd.h> and <grp.h>; LP64 glibc (x86_64 and aarch64):
  // passwd {char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; char *pw_gecos;
  //         char *pw_dir; char *pw_shell;} is 48 bytes; group {char *gr_name; char *gr_passwd;
  //         gid_t gr_gid; char **gr_mem;} is 32 bytes. The name is the first field of both.
  private static final long PASSWD_SIZE = 48;
  private static final long GROUP_SIZE = 32;

  private static final FunctionDescriptor BY_ID =
      FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);

  /** Linked at the first lookup (see {@link NativeAccess}). */
  private static final class Handles {
    static final MethodHandle GETPWUID_R = NativeAccess.link("getpwuid_r", BY_ID);
    static final MethodHandle GETGRGID_R = NativeAccess.link("getgrgid_r", BY_ID);
  }

  private static final TtlCache<Long, Optional<String>> USERS =
      new TtlCache<>(CACHE_SIZE, TTL_NANOS);
  private static final TtlCache<Long, Optional<String>> GROUPS =
      new TtlCache<>(CACHE_SIZE, TTL_NANOS);

  private static final ThreadPoolExecutor LOOKUPS =
      new ThreadPoolExecutor(
          4,
          4,
          30,
          TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(),
          Thread.ofPlatform().daemon().name("peercred-nss-", 0).factory());

  static {
    LOOKUPS.allowCoreThreadTimeOut(true);
  }

  /**
   * The name of {@code uid} in the user database, empty if it has none.
   *
   * @throws IOException if the name service fails (not for an id without an entry)
   */
  public static Optional<String> userName(long uid) throws IOException {
    return lookup(USERS, true, PASSWD_SIZE, uid);
  }

  /**
   * The name of {@code gid} in the group database, empty if it has none.
   *
   * @throws IOException if the name service fails (not for an id without an entry)
   */
  public static Optional<String> groupName(long gid) throws IOException {
    return lookup(GROUPS, false, GROUP_SIZE, gid);
  }

  private static Optional<String> lookup(
      TtlCache<Long, Optional<String>> cache, boolean user, long structSize, long id)
      throws IOException {
    if (id < 0 || id > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("id out of range 0..4294967295: " + id);
    }
    NativeAccess.check();
    Optional<String> cached = cache.get(id);
    if (cached != null) {
      return cached;
    }
    Optional<String> name;
    if (Thread.currentThread().isVirtual()) {
      Future<Optional<String>> future = LOOKUPS.submit(() -> call(user, structSize, id));
      try {
        name = future.get();
      } catch (InterruptedException e) {
        future.cancel(false);
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("name lookup interrupted");
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UncheckedIOException u) {
          throw u.getCause();
        }
        throw new CompletionException(e.getCause());
      }
    } else {
      try {
        name = call(user, structSize, id);
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
    }
    cache.put(id, name);
    return name;
  }

  private static Optional<String> call(boolean user, long structSize, long id) {
    MethodHandle function = user ? Handles.GETPWUID_R : Handles.GETGRGID_R;
    String what = user ? "getpwuid_r" : "getgrgid_r";
    long size = 1024;
    while (true) {
      int rc;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment struct = arena.allocate(structSize, 8);
        MemorySegment buffer = arena.allocate(size, 8);
        MemorySegment result = arena.allocate(ADDRESS);
        rc = (int) function.invokeExact((int) id, struct, buffer, size, result);
        if (rc == 0 && !result.get(ADDRESS, 0).equals(MemorySegment.NULL)) {
          MemorySegment name = struct.get(ADDRESS, 0);
          return name.equals(MemorySegment.NULL)
              ? Optional.empty()
              : Optional.of(name.reinterpret(Long.MAX_VALUE).getString(0));
        }
      } catch (Throwable t) {
        throw NativeAccess.failure(t);
      }
      switch (rc) {
        // getpwuid_r(3): 0 with a null result, ENOENT, ESRCH, EBADF and EPERM all mean "not found".
        case 0, Errno.ENOENT, Errno.ESRCH, Errno.EBADF, Errno.EPERM -> {
          return Optional.empty();
        }
        case Errno.ERANGE -> {
          if (size >= MAX_BUFFER) {
            throw new UncheckedIOException(
                Errno.ioException(what, rc, "id=" + id + ", entry over 1 MiB"));
          }
          size *= 4;
        }
        case Errno.EINTR -> {}
        default -> throw new UncheckedIOException(Errno.ioException(what, rc, "id=" + id));
      }
    }
  }

  /** Drops every cached answer (tests; after changing the user database). */
  public static void clearCache() {
    USERS.clear();
    GROUPS.clear();
  }
}
