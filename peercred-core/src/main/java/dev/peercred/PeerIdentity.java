package dev.peercred;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Everything the kernel can tell about the process on the other end of a Unix domain socket: its
 * {@linkplain #credentials() credentials}, {@linkplain #groups() supplementary groups}, {@linkplain
 * #securityLabel() security label}, the {@linkplain #process() process itself} (pinned by a pidfd
 * where the kernel offers {@code SO_PEERPIDFD}) and the user and group names.
 *
 * <p>The credentials are read before a connection is handed out; the other values are read on
 * first use and then kept (a snapshot), unless noted otherwise. Reading them needs the connection
 * open; a failure is an {@link IOException}, which an authorization decision must treat as a
 * denial.
 */
public final class PeerIdentity {
  private final PeerCredentials credentials;

  PeerIdentity(PeerCredentials credentials) {
    this.credentials = credentials;
  }

  /**
   * Reads the identity of the peer of a connected {@code AF_UNIX} socket descriptor owned by
   * someone else (a Netty channel's {@code fd().intValue()}, an inherited descriptor). The
   * descriptor is only read, never closed.
   *
   * @throws PeerCredentialsException if the kernel gives no credentials for it
   */
  public static PeerIdentity read(int fd) throws IOException {
    return new PeerIdentity(PeerCredentials.read(fd));
  }

  /** The pid, uid and gid from {@code SO_PEERCRED}. */
  public PeerCredentials credentials() {
    return credentials;
  }

  /** Shortcut for {@code credentials().pid()}. */
  public OptionalLong pid() {
    return credentials.pid();
  }

  /** Shortcut for {@code credentials().uid()}. */
  public long uid() {
    return credentials.uid();
  }

  /** Shortcut for {@code credentials().gid()}. */
  public long gid() {
    return credentials.gid();
  }

  /**
   * The peer's supplementary group ids at connect time ({@code SO_PEERGROUPS}), unsigned 32-bit.
   *
   * @throws IOException if the kernel gives none (connection closed, kernel before 4.13)
   */
  public List<Long> groups() throws IOException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /**
   * The peer's security label ({@code SO_PEERSEC}: an SELinux, AppArmor or Smack context); empty
   * where no security module provides one.
   */
  public Optional<String> securityLabel() throws IOException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /**
   * The peer process, pinned so that it can never answer for another process that reused its pid;
   * empty when the pid is not visible in this pid namespace.
   */
  public Optional<PeerProcess> process() throws IOException {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** The name of the peer's uid from the system's user database (NSS); empty if it has none. */
  public Optional<String> userName() {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /** The name of the peer's gid from the system's group database (NSS); empty if it has none. */
  public Optional<String> groupName() {
    throw new UnsupportedOperationException("not implemented yet");
  }

  @Override
  public String toString() {
    return credentials.toString();
  }
}
