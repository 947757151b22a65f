package dev.peercred;

import dev.peercred.internal.linux.Credentials;
import dev.peercred.internal.linux.JdkChannels;
import dev.peercred.internal.linux.Platform;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.OptionalLong;

/**
 * The credentials of the process on the other end of a Unix domain socket, as the kernel recorded
 * them ({@code SO_PEERCRED}, see {@code socket(7)} and {@code unix(7)}).
 *
 * <p><b>A snapshot, not a live view.</b> On a server these are the credentials of the process that
 * called {@code connect(2)}, taken at that moment; on a client, those of the server process that
 * called {@code listen(2)}; on a socket pair, those of the process that called {@code
 * socketpair(2)}. Later changes of id by the peer are not reflected, and the descriptor may since
 * have been passed to another process. A pid may be reused once its process exits: do not look the
 * process up by pid alone to decide anything.
 *
 * <p><b>Namespaces.</b> The kernel translates the values into the reader's namespaces. A peer whose
 * pid is not visible in ours reads as pid 0, which {@link #pid()} reports as empty. A uid or gid
 * with no mapping in our user namespace reads as the overflow id ({@code
 * /proc/sys/kernel/overflowuid}, usually 65534); {@link #isUidMapped()} and {@link #isGidMapped()}
 * are false for it, and it must never be taken for that user. In the initial user namespace every
 * id is mapped, so 65534 there really is {@code nobody}.
 *
 * <p>Uids and gids are unsigned 32-bit values, held in a {@code long} so that ids above 2^31 stay
 * positive.
 *
 * @param pid the peer's process id in this pid namespace; empty if it is not visible here
 * @param uid the peer's effective user id, from 0 to 2^32-1
 * @param gid the peer's effective group id, from 0 to 2^32-1
 */
public record PeerCredentials(OptionalLong pid, long uid, long gid) {
  private static final long MAX_ID = 0xFFFF_FFFFL;

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if an id is outside 0..2^32-1 or the pid is not positive
   */
  public PeerCredentials {
    java.util.Objects.requireNonNull(pid, "pid");
    if (uid < 0 || uid > MAX_ID) {
      throw new IllegalArgumentException("uid out of range 0..4294967295: " + uid);
    }
    if (gid < 0 || gid > MAX_ID) {
      throw new IllegalArgumentException("gid out of range 0..4294967295: " + gid);
    }
    if (pid.isPresent() && pid.getAsLong() <= 0) {
      throw new IllegalArgumentException("pid must be positive: " + pid.getAsLong());
    }
  }

  /**
   * Reads the peer credentials of a connected {@code AF_UNIX} socket descriptor owned by someone
   * else: a Netty channel's {@code fd().intValue()}, an inherited descriptor. The descriptor is
   * only read, never closed; the caller must keep it open for the duration of the call.
   *
   * @throws PeerCredentialsException if the kernel gives no credentials for it (not a socket, not
   *     connected, not {@code AF_UNIX}, closed)
   * @throws IllegalArgumentException if {@code fd} is negative
   * @throws UnsupportedOperationException on a platform other than Linux x86_64 or aarch64
   */
  public static PeerCredentials read(int fd) throws PeerCredentialsException {
    if (fd < 0) {
      throw new IllegalArgumentException("file descriptor is negative: " + fd);
    }
    Platform.ensureSupported();
    return Credentials.read(fd);
  }

  /**
   * Reads the peer credentials of a connected JDK {@link SocketChannel} of family {@code UNIX}: one
   * accepted from {@code ServerSocketChannel.open(StandardProtocolFamily.UNIX)}, or a client's
   * {@code SocketChannel.open(UnixDomainSocketAddress)}. The channel stays the application's: it is
   * only read, in whatever blocking mode it is, and may be used by other threads meanwhile.
   *
   * <p><b>Needs the JVM option</b> {@code --add-exports java.base/sun.nio.ch=dev.peercred} (module
   * path) or {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (class path), or {@code
   * Add-Exports: java.base/sun.nio.ch} in an executable JAR's manifest: the JDK exposes a channel's
   * descriptor only through its internal, public interface {@code sun.nio.ch.SelChImpl}. Without
   * it, this method throws {@link UnsupportedOperationException} naming the option.
   *
   * <p>The credentials are those of the channel's own socket: if the channel is closed during the
   * call (and its descriptor number reused), the call throws {@link
   * java.nio.channels.AsynchronousCloseException} rather than answer for another file.
   *
   * @throws java.nio.channels.ClosedChannelException if the channel is closed
   * @throws IllegalArgumentException if the channel is not connected, not of family {@code UNIX} or
   *     not one of the JDK's own channels
   * @throws UnsupportedOperationException if {@code sun.nio.ch} is not exported to peercred, or on
   *     a platform other than Linux x86_64 or aarch64
   * @throws PeerCredentialsException if the kernel gives no credentials for the socket
   * @throws IOException if reading the channel's addresses fails
   */
  public static PeerCredentials of(SocketChannel channel) throws IOException {
    return JdkChannels.readConnected(
        channel, "PeerCredentials.of(SocketChannel)", PeerCredentials::read, unused -> {});
  }

  /** The credentials of this process: its pid, effective uid and effective gid. */
  public static PeerCredentials ofCurrentProcess() {
    Platform.ensureSupported();
    return new PeerCredentials(
        OptionalLong.of(ProcessHandle.current().pid()),
        Credentials.effectiveUid(),
        Credentials.effectiveGid());
  }

  /**
   * True unless the uid is the overflow uid of a user namespace that does not map every id, in
   * which case it stands for "some user not mapped here" and must not be trusted as an id.
   */
  public boolean isUidMapped() {
    return uid != Credentials.OVERFLOW_UID || Credentials.ALL_UIDS_MAPPED;
  }

  /** Like {@link #isUidMapped()}, for the gid. */
  public boolean isGidMapped() {
    return gid != Credentials.OVERFLOW_GID || Credentials.ALL_GIDS_MAPPED;
  }

  /**
   * True if the peer runs as {@code uid}, with a uid that is mapped in this namespace: the
   * article's "same user only" check, safe against the overflow uid.
   */
  public boolean hasUid(long uid) {
    return isUidMapped() && this.uid == uid;
  }

  /** Reads well in a log line: {@code pid=4242 uid=1000 gid=1000}. */
  @Override
  public String toString() {
    return "pid="
        + (pid.isPresent() ? Long.toString(pid.getAsLong()) : "unknown(other pid namespace)")
        + " uid="
        + uid
        + (isUidMapped() ? "" : "(unmapped)")
        + " gid="
        + gid
        + (isGidMapped() ? "" : "(unmapped)");
  }
}
