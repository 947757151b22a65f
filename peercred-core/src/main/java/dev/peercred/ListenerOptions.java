package dev.peercred;

import dev.peercred.internal.linux.Nss;
import java.io.IOException;
import java.io.UncheckedIOException;
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
 *     ours; {@link #withOwner(String)} takes a user name
 * @param group the socket file's group gid (a group we belong to, or any with {@code CAP_CHOWN});
 *     empty to keep ours; {@link #withGroup(String)} takes a group name
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
   * @param uid the owner's uid
   * @return these options with that owner
   * @throws IllegalArgumentException if {@code uid} is outside 0 to 4294967294
   */
  public ListenerOptions withOwner(long uid) {
    return new ListenerOptions(
        backlog, replaceStaleSocket, removeOnClose, mode, OptionalLong.of(uid), group);
  }

  /**
   * These options with the socket file's group.
   *
   * @param gid the group's gid
   * @return these options with that group
   * @throws IllegalArgumentException if {@code gid} is outside 0 to 4294967294
   */
  public ListenerOptions withGroup(long gid) {
    return new ListenerOptions(
        backlog, replaceStaleSocket, removeOnClose, mode, owner, OptionalLong.of(gid));
  }

  /**
   * These options with the socket file's owner given as text, as a command line or a configuration
   * file has it: a user name, resolved now through the system's user database (NSS, so LDAP, SSSD
   * and systemd users count, as for {@code id(1)}), or a uid in decimal.
   *
   * @param userNameOrId a user name such as {@code "backup"}, or a uid from 0 to 4294967294 such as
   *     {@code "34"}
   * @return these options with that owner
   * @throws IllegalArgumentException if no user has that name ({@code no user named 'x'}), or the
   *     value is neither a valid user name nor a uid in range (the message names the value)
   * @throws java.io.UncheckedIOException if the user database cannot be read
   * @throws UnsupportedOperationException if a name must be looked up where peercred cannot call
   *     the C library (another platform, native access denied)
   */
  public ListenerOptions withOwner(String userNameOrId) {
    return withOwner(id("owner", false, userNameOrId));
  }

  /**
   * These options with the socket file's group given as text: a group name, resolved now through
   * the system's group database (NSS), or a gid in decimal.
   *
   * @param groupNameOrId a group name such as {@code "docker"}, or a gid from 0 to 4294967294
   * @return these options with that group
   * @throws IllegalArgumentException if no group has that name ({@code no group named 'x'}), or the
   *     value is neither a valid group name nor a gid in range (the message names the value)
   * @throws java.io.UncheckedIOException if the group database cannot be read
   * @throws UnsupportedOperationException if a name must be looked up where peercred cannot call
   *     the C library (another platform, native access denied)
   */
  public ListenerOptions withGroup(String groupNameOrId) {
    return withGroup(id("group", true, groupNameOrId));
  }

  /** The id {@code value} stands for: itself if decimal digits, else the id of that name. */
  private static long id(String option, boolean group, String value) {
    Objects.requireNonNull(value, option);
    String what = group ? "group" : "user";
    if (!value.isEmpty() && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
      long id = value.length() <= 10 ? Long.parseLong(value) : Long.MAX_VALUE;
      if (id > MAX_ID) {
        throw new IllegalArgumentException(
            option
                + " "
                + (group ? "gid" : "uid")
                + " must be within 0 and "
                + MAX_ID
                + ", was "
                + value);
      }
      return id;
    }
    String problem = Nss.nameProblem(what, value);
    if (problem != null) {
      throw new IllegalArgumentException("invalid " + option + ": " + problem);
    }
    OptionalLong id;
    try {
      id = group ? Nss.gidOf(value) : Nss.uidOf(value);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot look up " + what + " '" + value + "' for the " + option + ": " + e.getMessage(),
          e);
    }
    return id.orElseThrow(
        () -> new IllegalArgumentException("no " + what + " named '" + value + "'"));
  }

  /** True when a mode, owner or group is set, so binding goes through a private directory. */
  boolean setsPermissions() {
    return mode.isPresent() || owner.isPresent() || group.isPresent();
  }
}
