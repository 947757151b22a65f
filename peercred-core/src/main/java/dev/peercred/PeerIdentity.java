package dev.peercred;

import dev.peercred.internal.linux.Credentials;
import dev.peercred.internal.linux.Errno;
import dev.peercred.internal.linux.Identity;
import dev.peercred.internal.linux.JdkChannels;
import dev.peercred.internal.linux.NativeSocket;
import dev.peercred.internal.linux.Nss;
import dev.peercred.internal.linux.Platform;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;

/**
 * Everything the kernel can tell about the process on the other end of a Unix domain socket: its
 * {@linkplain #credentials() credentials}, {@linkplain #groups() supplementary groups}, {@linkplain
 * #securityLabel() security label}, the {@linkplain #process() process itself} (pinned by a pidfd
 * where the kernel offers {@code SO_PEERPIDFD}) and the user and group names.
 *
 * <p><b>When values are captured.</b> The credentials, groups and label are the kernel's snapshot
 * of the peer at {@code connect(2)} time (on a client: at the server's {@code listen(2)}); they
 * never change, however the peer changes its ids later. On a {@link UnixConnection} only the
 * credentials are read before the connection is handed out; groups, label and process are read from
 * the socket on first use, so a plain uid check costs nothing more than {@code SO_PEERCRED}, and
 * then kept. The {@linkplain PeerProcess process details} are live: read from {@code /proc} at each
 * call and verified against the pinned process. Names come from the system's user database, cached
 * for a short time.
 *
 * <p><b>Namespaces.</b> A peer in another pid namespace has no {@link #pid()} and no {@link
 * #process()}. Ids that are not mapped in this user namespace read as the overflow id (usually
 * 65534): {@link PeerCredentials#isUidMapped()}, {@link #hasUnmappedGroups()} and {@link
 * #mappedGroups()} tell them apart, {@link #hasGroup(long)} never matches them, and no name is
 * given for them.
 *
 * <p><b>Resources and closing.</b> A pinned process holds a pidfd, which {@link #close()} releases.
 * The identity of a {@link UnixConnection} is closed with the connection; one from {@link
 * #read(int)} must be closed by the caller. After closing, values already read stay available;
 * anything still to be read fails with {@link ClosedChannelException}. Failures are {@link
 * IOException}s, which an authorization decision must treat as a denial. Safe for use by several
 * threads.
 */
public final class PeerIdentity implements AutoCloseable {
  /** False once a kernel has answered {@code ENOPROTOOPT} to {@code SO_PEERPIDFD} (before 6.5). */
  private static volatile boolean peerPidfdSupported = true;

  private final PeerCredentials credentials;

  /** Runs a call on the socket's descriptor, or throws if it is no longer open. */
  private final SocketAccess socket;

  private final ReentrantLock lock = new ReentrantLock();
  private final Kept<List<Long>> groups = new Kept<>();
  private final Kept<Optional<String>> label = new Kept<>();
  private final Kept<LinuxPeerProcess> process = new Kept<>(); // null value: no process to pin
  private boolean closed;

  /** Tests turn this off to exercise the fallback of kernels before 6.5. */
  volatile boolean usePeerPidfd = true;

  /** Reads one value about the peer. */
  private interface Read<T> {
    T read() throws IOException;
  }

  /**
   * A value read about the peer on first use and then kept, or the failure to read it, kept too so
   * that every later call fails the same way. Guarded by the identity's lock.
   */
  private final class Kept<T> {
    private boolean read;
    private T value;
    private IOException failure;

    T get(Read<T> reader) throws IOException {
      lock.lock();
      try {
        if (!read) {
          if (closed) {
            throw new ClosedChannelException();
          }
          try {
            value = reader.read();
          } catch (IOException e) {
            failure = e;
          }
          read = true;
        }
        if (failure != null) {
          throw rethrow(failure);
        }
        return value;
      } finally {
        lock.unlock();
      }
    }

    /** The value if it was read without failure; null otherwise. Reads nothing. */
    T ifRead() {
      lock.lock();
      try {
        return read && failure == null ? value : null;
      } finally {
        lock.unlock();
      }
    }
  }

  /** The socket's descriptor, held open between {@code acquire} and {@code release}. */
  private interface SocketAccess {
    int acquire() throws IOException;

    void release();

    default <T> T call(IntFunction<T> call) throws IOException {
      int fd = acquire();
      try {
        return call.apply(fd);
      } finally {
        release();
      }
    }
  }

  private PeerIdentity(PeerCredentials credentials, SocketAccess socket) {
    this.credentials = credentials;
    this.socket = socket;
  }

  /** The identity of a connection's peer, read lazily through the connection's socket. */
  PeerIdentity(PeerCredentials credentials, NativeSocket socket) {
    this(
        credentials,
        new SocketAccess() {
          @Override
          public int acquire() throws IOException {
            return socket.acquire();
          }

          @Override
          public void release() {
            socket.release();
          }
        });
  }

  /**
   * Reads the identity of the peer of a connected {@code AF_UNIX} socket descriptor owned by
   * someone else (a Netty channel's {@code fd().intValue()}, an inherited descriptor). The
   * descriptor is only read, never closed, and only during this call: the groups, the label and the
   * process are read now (a failure to read one is thrown later by its accessor), because the
   * number could name another file once its owner closes it.
   *
   * <p>The identity holds a pidfd for the peer process where the kernel offers one: <b>close it</b>
   * (try-with-resources, or when the channel that owns {@code fd} closes). A process handle dropped
   * unclosed gives its pidfd back only when the garbage collector finds it, which may be late.
   *
   * @throws PeerCredentialsException if the kernel gives no credentials for it
   * @throws IllegalArgumentException if {@code fd} is negative
   * @throws UnsupportedOperationException on a platform other than Linux x86_64 or aarch64
   */
  public static PeerIdentity read(int fd) throws IOException {
    if (fd < 0) {
      throw new IllegalArgumentException("fd must not be negative: " + fd);
    }
    Platform.ensureSupported();
    PeerCredentials credentials = PeerCredentials.read(fd);
    boolean[] reading = {true};
    PeerIdentity identity =
        new PeerIdentity(
            credentials,
            new SocketAccess() {
              @Override
              public int acquire() throws IOException {
                if (!reading[0]) {
                  throw new IOException("fd " + fd + " was only borrowed by PeerIdentity.read");
                }
                return fd;
              }

              @Override
              public void release() {}
            });
    try {
      identity.prefetch();
    } finally {
      reading[0] = false;
    }
    return identity;
  }

  /**
   * Reads the identity of the peer of a connected JDK {@link SocketChannel} of family {@code UNIX},
   * as {@link #read(int)} does for a descriptor: everything that comes from the socket is read now,
   * while the channel is known to be open, and the process is pinned. The channel stays the
   * application's and is only read. The returned identity holds a pidfd: <b>close it</b> when the
   * channel closes.
   *
   * <p>Needs the same JVM option as {@link PeerCredentials#of(SocketChannel)}, {@code --add-exports
   * java.base/sun.nio.ch=dev.peercred} (or {@code =ALL-UNNAMED} on the class path); without it,
   * this method throws {@link UnsupportedOperationException} naming the option. If the channel is
   * closed during the call, the identity read so far is closed and {@link
   * java.nio.channels.AsynchronousCloseException} thrown, so that a reused descriptor number never
   * answers for the channel.
   *
   * @throws java.nio.channels.ClosedChannelException if the channel is closed
   * @throws IllegalArgumentException if the channel is not connected, not of family {@code UNIX} or
   *     not one of the JDK's own channels
   * @throws UnsupportedOperationException if {@code sun.nio.ch} is not exported to peercred, or on
   *     a platform other than Linux x86_64 or aarch64
   * @throws PeerCredentialsException if the kernel gives no credentials for the socket
   * @throws IOException if reading the channel's addresses fails
   */
  public static PeerIdentity of(SocketChannel channel) throws IOException {
    return JdkChannels.readConnected(
        channel, "PeerIdentity.of(SocketChannel)", PeerIdentity::read, PeerIdentity::close);
  }

  /**
   * Reads the groups, the label and the process now instead of on first use, keeping each failure
   * for its accessor to throw: for a server that accepts on one thread and decides on another, or
   * that wants the process pinned (and its start time captured) as close to {@code connect(2)} as
   * possible. Never throws.
   *
   * @return this identity
   */
  public PeerIdentity prefetch() {
    try {
      groups();
    } catch (IOException e) {
      // kept; groups() throws it again
    }
    try {
      securityLabel();
    } catch (IOException e) {
      // kept; securityLabel() throws it again
    }
    try {
      process();
    } catch (IOException e) {
      // kept; process() throws it again
    }
    return this;
  }

  /**
   * True if this kernel can pin peer processes with a pidfd ({@code SO_PEERPIDFD}, Linux 6.5+), so
   * that {@link PeerProcess#isPinned()} is true for the processes {@link #process()} gives. Probed
   * once; false on other platforms. Never throws.
   */
  public static boolean canPinProcesses() {
    return Identity.peerPidfdSupported();
  }

  /** The pid, uid and gid from {@code SO_PEERCRED}, captured at connect time. */
  public PeerCredentials credentials() {
    return credentials;
  }

  /** Shortcut for {@code credentials().pid()}: empty if the peer is in another pid namespace. */
  public OptionalLong pid() {
    return credentials.pid();
  }

  /** Shortcut for {@code credentials().uid()}; see {@link PeerCredentials#isUidMapped()}. */
  public long uid() {
    return credentials.uid();
  }

  /** Shortcut for {@code credentials().gid()}; see {@link PeerCredentials#isGidMapped()}. */
  public long gid() {
    return credentials.gid();
  }

  /** Shortcut for {@code credentials().isUidMapped()}. */
  public boolean isUidMapped() {
    return credentials.isUidMapped();
  }

  /** Shortcut for {@code credentials().isGidMapped()}. */
  public boolean isGidMapped() {
    return credentials.isGidMapped();
  }

  /**
   * The peer's supplementary group ids at connect time ({@code SO_PEERGROUPS}, Linux 4.13+),
   * unsigned 32-bit, in the kernel's order; empty for a process without supplementary groups. A
   * group not mapped in this user namespace appears as the overflow gid: see {@link
   * #mappedGroups()}. Read on first use, then kept.
   *
   * @throws IOException if the kernel gives none (connection closed before the first read, kernel
   *     before 4.13)
   */
  public List<Long> groups() throws IOException {
    return groups.get(
        () -> {
          Identity.Result<int[]> result = socket.call(Identity::peerGroups);
          if (!result.isOk()) {
            throw Errno.socketException(
                "getsockopt(SO_PEERGROUPS)", result.errno(), "peer " + credentials);
          }
          List<Long> list = new ArrayList<>(result.value().length);
          for (int gid : result.value()) {
            list.add(Integer.toUnsignedLong(gid));
          }
          return Collections.unmodifiableList(list);
        });
  }

  /**
   * The supplementary groups that are mapped in this user namespace: {@link #groups()} without the
   * overflow gid, unless every gid is mapped here (the initial namespace), where it is a real
   * group.
   */
  public List<Long> mappedGroups() throws IOException {
    List<Long> all = groups();
    if (Credentials.ALL_GIDS_MAPPED) {
      return all;
    }
    return all.stream().filter(g -> g != Credentials.OVERFLOW_GID).toList();
  }

  /**
   * True if some supplementary group is not mapped in this user namespace, so that {@link
   * #groups()} does not tell all of the peer's groups.
   */
  public boolean hasUnmappedGroups() throws IOException {
    return mappedGroups().size() != groups().size();
  }

  /**
   * True if the peer's primary gid or one of its supplementary groups is {@code gid}, counting only
   * ids mapped in this user namespace.
   *
   * @throws IOException if the groups cannot be read
   * @throws IllegalArgumentException if {@code gid} is outside 0..2^32-1
   */
  public boolean hasGroup(long gid) throws IOException {
    if (gid < 0 || gid > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("gid out of range 0..4294967295: " + gid);
    }
    return (credentials.isGidMapped() && credentials.gid() == gid) || mappedGroups().contains(gid);
  }

  /**
   * The peer's security label at connect time ({@code SO_PEERSEC}: an SELinux, AppArmor or Smack
   * context); empty where no security module provides one ({@code ENOPROTOOPT}). Read on first use,
   * then kept.
   *
   * @throws IOException if the kernel fails to give it (connection closed before the first read)
   */
  public Optional<String> securityLabel() throws IOException {
    return label.get(
        () -> {
          Identity.Result<String> result = socket.call(Identity::peerSecurityLabel);
          if (result.isOk()) {
            return result.value().isEmpty() ? Optional.empty() : Optional.of(result.value());
          }
          if (result.errno() == Errno.ENOPROTOOPT) {
            return Optional.empty(); // no security module gives labels
          }
          throw Errno.socketException(
              "getsockopt(SO_PEERSEC)", result.errno(), "peer " + credentials);
        });
  }

  /**
   * The peer process, pinned so that it can never answer for another process that reused its pid;
   * empty when the pid is not visible in this pid namespace. The handle is made on the first call
   * (its start time is captured then), kept, and closed with this identity.
   *
   * <p>Where the kernel offers {@code SO_PEERPIDFD} (Linux 6.5+) the handle holds a pidfd for the
   * very process that connected and {@link PeerProcess#isPinned()} is true. On older kernels it
   * knows the process by pid and start time only, checked at every read, and {@code isPinned()} is
   * false: a pid reused between the connect and this first call would go unnoticed.
   *
   * @throws PeerProcessGoneException if the process exited before it could be pinned
   * @throws IOException if the connection is closed or the process cannot be read
   */
  public Optional<PeerProcess> process() throws IOException {
    return Optional.<PeerProcess>ofNullable(
        process.get(
            () -> credentials.pid().isEmpty() ? null : openProcess(credentials.pid().getAsLong())));
  }

  /**
   * The peer process if an earlier call to {@link #process()} has already pinned it; never reads
   * anything itself. For audit records and logs that should show what a decision looked at without
   * adding work a decision did not need.
   *
   * @return the pinned process, or empty if it was not (yet) read, could not be, or the peer's pid
   *     is not visible here
   */
  public Optional<PeerProcess> resolvedProcess() {
    return Optional.ofNullable(process.ifRead());
  }

  private LinuxPeerProcess openProcess(long pid) throws IOException {
    if (peerPidfdSupported && usePeerPidfd) {
      int pidfd = socket.call(Identity::peerPidfd);
      if (pidfd >= 0) {
        return LinuxPeerProcess.open(pid, pidfd);
      }
      switch (-pidfd) {
        case Errno.ENOPROTOOPT -> peerPidfdSupported = false;
        case Errno.ESRCH, Errno.EINVAL ->
            throw new PeerProcessGoneException(
                "peer process " + pid + " exited before it could be pinned");
        default ->
            throw Errno.socketException("getsockopt(SO_PEERPIDFD)", -pidfd, "peer " + credentials);
      }
    }
    return LinuxPeerProcess.open(pid, -1);
  }

  /**
   * The name of the peer's uid in the system's user database (NSS, as {@code id(1)} shows it);
   * empty if it has none or the uid is not mapped in this user namespace. Answers are cached for a
   * short time.
   *
   * @throws UncheckedIOException if the name service fails
   */
  public Optional<String> userName() {
    return credentials.isUidMapped() ? name(false, credentials.uid()) : Optional.empty();
  }

  /**
   * The name of the peer's gid in the system's group database (NSS); empty if it has none or the
   * gid is not mapped in this user namespace.
   *
   * @throws UncheckedIOException if the name service fails
   */
  public Optional<String> groupName() {
    return credentials.isGidMapped() ? name(true, credentials.gid()) : Optional.empty();
  }

  private static Optional<String> name(boolean group, long id) {
    try {
      return group ? Nss.groupName(id) : Nss.userName(id);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The names of the peer's {@linkplain #mappedGroups() mapped} supplementary groups that have one,
   * in the order of {@link #groups()}; groups without a name are left out.
   *
   * @throws IOException if the groups cannot be read or the name service fails
   */
  public List<String> groupNames() throws IOException {
    List<String> names = new ArrayList<>();
    for (long gid : mappedGroups()) {
      Nss.groupName(gid).ifPresent(names::add);
    }
    return Collections.unmodifiableList(names);
  }

  /**
   * Releases the pinned process's pidfd (and its parents'). Values already read stay available;
   * anything not yet read fails with {@link ClosedChannelException}. Idempotent.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      if (process.value != null) {
        process.value.close();
      }
    } finally {
      lock.unlock();
    }
  }

  /** A fresh exception of the same kind, so that each caller gets its own stack trace. */
  private static IOException rethrow(IOException kept) {
    IOException copy;
    if (kept instanceof PeerProcessGoneException) {
      copy = new PeerProcessGoneException(kept.getMessage());
    } else if (kept instanceof ClosedChannelException) {
      copy = new ClosedChannelException();
    } else if (kept instanceof java.net.SocketException) {
      copy = new java.net.SocketException(kept.getMessage());
    } else {
      copy = new IOException(kept.getMessage());
    }
    copy.initCause(kept);
    return copy;
  }

  @Override
  public String toString() {
    return credentials.toString();
  }
}
