package dev.peercred.internal.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The system's user and group databases through the C library's name service switch, both ways: the
 * name of an id ({@code getpwuid_r(3)}, {@code getgrgid_r(3)}) and the id of a name ({@code
 * getpwnam_r(3)}, {@code getgrnam_r(3)}), so that LDAP, SSSD or systemd users resolve as they do
 * for {@code id(1)}.
 *
 * <p>The four go one way: a lookup may do I/O (read a file, ask a daemon or a directory server), so
 * the functions are linked as ordinary (not critical) downcalls with their buffers in a confined
 * arena, retried with a larger buffer on {@code ERANGE}; a virtual thread hands the call to a small
 * pool of platform threads and parks, instead of holding its carrier while the lookup waits; and
 * answers, "no such entry" included, are kept in one bounded cache ({@value #CACHE_SIZE} answers,
 * for {@value #TTL_SECONDS} seconds each), so that repeated checks stay cheap and a renamed or
 * removed account is seen soon.
 */
public final class Nss {
  private Nss() {}

  static final int CACHE_SIZE = 1024;
  static final long TTL_SECONDS = 30;

  /** Largest buffer tried before giving up on {@code ERANGE}. */
  private static final long MAX_BUFFER = 1 << 20;

  /**
   * The two databases. {@code struct passwd} and {@code struct group}, {@code <pwd.h>} and {@code
   * <grp.h>}, on LP64 glibc (x86_64 and aarch64): passwd {char *pw_name; char *pw_passwd; uid_t
   * pw_uid; gid_t pw_gid; char *pw_gecos; char *pw_dir; char *pw_shell;} is 48 bytes, group {char
   * *gr_name; char *gr_passwd; gid_t gr_gid; char **gr_mem;} is 32; in both the name is at offset 0
   * and the id at offset 16.
   */
  private enum Database {
    USERS("user", 48, "getpwuid_r", "getpwnam_r"),
    GROUPS("group", 32, "getgrgid_r", "getgrnam_r");

    final String entry;
    final long structSize;
    final String byId;
    final String byName;

    Database(String entry, long structSize, String byId, String byName) {
      this.entry = entry;
      this.structSize = structSize;
      this.byId = byId;
      this.byName = byName;
    }
  }

  private static final long NAME_OFFSET = 0;
  private static final long ID_OFFSET = 16;

  /** What a lookup asks: the entry of an id, or of a name ({@code name} null for an id). */
  private record Query(Database database, long id, String name) {
    String call() {
      return name == null ? database.byId : database.byName;
    }

    String detail() {
      return name == null ? "id=" + id : "name=" + name;
    }
  }

  /** The two fields of an entry peercred reads; {@code name} null if the entry has none. */
  private record Entry(String name, long id) {}

  /** Linked at the first lookup (see {@link NativeAccess}). */
  private static final class Handles {
    private static final FunctionDescriptor BY_ID =
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
    private static final FunctionDescriptor BY_NAME =
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
    static final MethodHandle GETPWUID_R = NativeAccess.link("getpwuid_r", BY_ID);
    static final MethodHandle GETGRGID_R = NativeAccess.link("getgrgid_r", BY_ID);
    static final MethodHandle GETPWNAM_R = NativeAccess.link("getpwnam_r", BY_NAME);
    static final MethodHandle GETGRNAM_R = NativeAccess.link("getgrnam_r", BY_NAME);
  }

  private static final TtlCache<Query, Optional<Entry>> CACHE =
      new TtlCache<>(CACHE_SIZE, TTL_SECONDS * 1_000_000_000L);

  /** Where virtual threads' lookups run; threads are made when needed and end when idle. */
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
   * The name of {@code uid} in the user database, empty if it has no entry (or an entry without a
   * name).
   *
   * @throws IOException if the name service fails (not for an id without an entry)
   * @throws IllegalArgumentException if {@code uid} is outside 0..4294967295
   */
  public static Optional<String> userName(long uid) throws IOException {
    return lookup(byId(Database.USERS, uid)).map(Entry::name);
  }

  /**
   * The name of {@code gid} in the group database, empty if it has no entry.
   *
   * @throws IOException if the name service fails (not for an id without an entry)
   * @throws IllegalArgumentException if {@code gid} is outside 0..4294967295
   */
  public static Optional<String> groupName(long gid) throws IOException {
    return lookup(byId(Database.GROUPS, gid)).map(Entry::name);
  }

  /**
   * The uid of user {@code name}; empty if the user database has no such user (or the name could be
   * no one's: empty, or holding a NUL).
   *
   * @throws IOException if the name service fails (the directory server cannot be reached, ...)
   */
  public static OptionalLong uidOf(String name) throws IOException {
    return idOf(Database.USERS, name);
  }

  /**
   * The gid of group {@code name}; empty if the group database has no such group.
   *
   * @throws IOException if the name service fails
   */
  public static OptionalLong gidOf(String name) throws IOException {
    return idOf(Database.GROUPS, name);
  }

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,255}\\$?");

  /**
   * Why {@code name} is not a user or group name peercred accepts, or null if it is one: letters,
   * digits, {@code _}, {@code .} and {@code -}, not starting with {@code .} or {@code -}, at most
   * 256 characters, and an optional final {@code $} (machine accounts); nothing that the policy
   * text could not print back.
   *
   * @param what {@code "user"} or {@code "group"}, for the message
   */
  public static String nameProblem(String what, String name) {
    if (name == null || name.isEmpty()) {
      return what + " name is empty";
    }
    if (!NAME.matcher(name).matches()) {
      return "not a valid "
          + what
          + " name: '"
          + name
          + "' (letters, digits, '_', '.', '-', at most 256, optional final '$')";
    }
    return null;
  }

  /** Drops every cached answer (tests; after changing the user database). */
  public static void clearCache() {
    CACHE.clear();
  }

  private static Query byId(Database database, long id) {
    if (id < 0 || id > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("id out of range 0..4294967295: " + id);
    }
    return new Query(database, id, null);
  }

  private static OptionalLong idOf(Database database, String name) throws IOException {
    if (name.isEmpty() || name.indexOf('\0') >= 0) {
      return OptionalLong.empty();
    }
    Optional<Entry> entry = lookup(new Query(database, -1, name));
    return entry.isPresent() ? OptionalLong.of(entry.get().id()) : OptionalLong.empty();
  }

  private static Optional<Entry> lookup(Query query) throws IOException {
    NativeAccess.check();
    Optional<Entry> entry = CACHE.get(query);
    if (entry == null) {
      entry = Thread.currentThread().isVirtual() ? offloaded(query) : call(query);
      CACHE.put(query, entry);
    }
    return entry;
  }

  /** Runs the lookup on a platform thread of the pool while this virtual thread parks. */
  private static Optional<Entry> offloaded(Query query) throws IOException {
    Future<Optional<Entry>> future = LOOKUPS.submit(() -> call(query));
    try {
      return future.get();
    } catch (InterruptedException e) {
      future.cancel(false);
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(query.call() + " interrupted, " + query.detail());
    } catch (ExecutionException e) {
      switch (e.getCause()) {
        case IOException io -> throw io;
        case RuntimeException r -> throw r;
        case Error error -> throw error;
        default -> throw new IOException(e.getCause());
      }
    }
  }

  private static Optional<Entry> call(Query query) throws IOException {
    long size = 1024;
    while (true) {
      int rc;
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment struct = arena.allocate(query.database().structSize, 8);
        MemorySegment buffer = arena.allocate(size, 8);
        MemorySegment result = arena.allocate(ADDRESS);
        rc = invoke(query, arena, struct, buffer, size, result);
        if (rc == 0 && !result.get(ADDRESS, 0).equals(MemorySegment.NULL)) {
          MemorySegment name = struct.get(ADDRESS, NAME_OFFSET);
          return Optional.of(
              new Entry(
                  name.equals(MemorySegment.NULL)
                      ? null
                      : name.reinterpret(Long.MAX_VALUE).getString(0),
                  Integer.toUnsignedLong(struct.get(JAVA_INT, ID_OFFSET))));
        }
      }
      switch (rc) {
        // getpwnam_r(3): 0 with a null result, ENOENT, ESRCH, EBADF and EPERM all mean "not found".
        case 0, Errno.ENOENT, Errno.ESRCH, Errno.EBADF, Errno.EPERM -> {
          return Optional.empty();
        }
        case Errno.ERANGE -> {
          if (size >= MAX_BUFFER) {
            throw Errno.ioException(
                query.call(), rc, query.detail() + ", " + query.database().entry + " over 1 MiB");
          }
          size *= 4;
        }
        case Errno.EINTR -> {}
        default -> throw Errno.ioException(query.call(), rc, query.detail());
      }
    }
  }

  private static int invoke(
      Query query,
      Arena arena,
      MemorySegment struct,
      MemorySegment buffer,
      long size,
      MemorySegment result) {
    boolean users = query.database() == Database.USERS;
    try {
      if (query.name() == null) {
        MethodHandle byId = users ? Handles.GETPWUID_R : Handles.GETGRGID_R;
        return (int) byId.invokeExact((int) query.id(), struct, buffer, size, result);
      }
      MethodHandle byName = users ? Handles.GETPWNAM_R : Handles.GETGRNAM_R;
      return (int)
          byName.invokeExact(arena.allocateFrom(query.name()), struct, buffer, size, result);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }
}
