package dev.peercred;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How {@link UnixListener#bind(UnixSocketAddress, ListenerOptions)} binds. Immutable; start from
 * {@link #defaults()} and change what you need with the {@code with} methods.
 *
 * <p><b>Permissions.</b> When a {@linkplain #withMode mode}, {@linkplain #withOwner owner} or
 * {@linkplain #withGroup group} is set, the socket is bound inside a new private directory (mode
 * 0700) next to the path, given its mode and ownership there, and only then linked into place: no
 * other process can ever reach it with wider permissions than asked. Connecting to a socket file
 * needs write permission on it, so mode {@code 0600} admits the owner only, {@code 0660} the owner
 * and the group. Without these options the socket gets the kernel's default, {@code 0777} minus the
 * process's umask. Abstract addresses have no file and refuse these options.
 *
 * @param backlog the {@code listen(2)} backlog, 1 or more; the kernel caps it at {@code
 *     net.core.somaxconn}
 * @param replaceStaleSocket if a socket file exists at the path and no server answers there ({@code
 *     ECONNREFUSED}), remove it and bind; a file that is not a socket (regular file, directory,
 *     symbolic link, ...) is never removed, and a live server's socket gives {@link
 *     AddressInUseException}
 * @param removeOnClose remove the socket file when the listener closes, if it is still the one this
 *     listener created
 * @param mode the socket file's permission bits, 0 to {@code 0777}; empty for the umask default
 * @param owner the socket file's owner uid (changing it needs {@code CAP_CHOWN}); empty to keep
 *     ours
 * @param group the socket file's group gid (a group we belong to, or any with {@code CAP_CHOWN});
 *     empty to keep ours
 */
public record ListenerOptions(
    int backlog,
    boolean replaceStaleSocket,
    boolean removeOnClose,
    OptionalInt mode,
    OptionalLong owner,
    OptionalLong group) {

  private static final long MAX_ID = 0xFFFF_FFFEL; // (uid_t) -1 means "unchanged" to chown(2)

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if {@code backlog} is less than 1, {@code mode} is outside 0
   *     to {@code 0777}, or an owner or group is outside 0 to 4294967294
   * @throws NullPointerException if {@code mode}, {@code owner} or {@code group} is null
   */
  public ListenerOptions {
    if (backlog < 1) {
      throw new IllegalArgumentException("backlog must be at least 1, was " + backlog);
    }
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(group, "group");
    if (mode.isPresent() && (mode.getAsInt() < 0 || mode.getAsInt() > 0777)) {
      throw new IllegalArgumentException(
          "mode must be within 0 and 0777 (permission bits only), was 0"
              + Integer.toOctalString(mode.getAsInt()));
    }
    checkId("owner uid", owner);
    checkId("group gid", group);
  }

  private static void checkId(String what, OptionalLong id) {
    if (id.isPresent() && (id.getAsLong() < 0 || id.getAsLong() > MAX_ID)) {
      throw new IllegalArgumentException(
          what + " must be within 0 and " + MAX_ID + ", was " + id.getAsLong());
    }
  }

  /** Options without permission settings: the umask decides the socket file's mode. */
  public ListenerOptions(int backlog, boolean replaceStaleSocket, boolean removeOnClose) {
    this(
        backlog,
        replaceStaleSocket,
        removeOnClose,
        OptionalInt.empty(),
        OptionalLong.empty(),
        OptionalLong.empty());
  }

  /** Backlog 4096, stale sockets replaced, the socket file removed on close, umask permissions. */
  public static ListenerOptions defaults() {
    return new ListenerOptions(4096, true, true);
  }

  /** These options with another backlog. */
  public ListenerOptions withBacklog(int backlog) {
    return new ListenerOptions(backlog, replaceStaleSocket, removeOnClose, mode, owner, group);
  }

  /** These options with stale-socket replacement on or off. */
  public ListenerOptions withReplaceStaleSocket(boolean replace) {
    return new ListenerOptions(backlog, replace, removeOnClose, mode, owner, group);
  }

  /** These options with removal of the socket file on close on or off. */
  public ListenerOptions withRemoveOnClose(boolean remove) {
    return new ListenerOptions(backlog, replaceStaleSocket, remove, mode, owner, group);
  }

  /**
   * These options with the socket file's permission bits, for example {@code 0600} or {@code 0660}.
   *
   * @throws IllegalArgumentException if {@code mode} is outside 0 to {@code 0777}
   */
  public ListenerOptions withMode(int mode) {
    return new ListenerOptions(
        backlog, replaceStaleSocket, removeOnClose, OptionalInt.of(mode), owner, group);
  }

  /**
   * These options with the socket file's owner.
   *
   * @throws IllegalArgumentException if {@code uid} is outside 0 to 4294967294
   */
  public ListenerOptions withOwner(long uid) {
    return new ListenerOptions(
        backlog, replaceStaleSocket, removeOnClose, mode, OptionalLong.of(uid), group);
  }

  /**
   * These options with the socket file's group.
   *
   * @throws IllegalArgumentException if {@code gid} is outside 0 to 4294967294
   */
  public ListenerOptions withGroup(long gid) {
    return new ListenerOptions(
        backlog, replaceStaleSocket, removeOnClose, mode, owner, OptionalLong.of(gid));
  }

  /** True when a mode, owner or group is set, so binding goes through a private directory. */
  boolean setsPermissions() {
    return mode.isPresent() || owner.isPresent() || group.isPresent();
  }
}
