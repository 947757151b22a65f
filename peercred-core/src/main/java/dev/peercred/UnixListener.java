package dev.peercred;

import dev.peercred.internal.linux.Credentials;
import dev.peercred.internal.linux.Errno;
import dev.peercred.internal.linux.LibC;
import dev.peercred.internal.linux.NativeSocket;
import dev.peercred.internal.linux.Platform;
import dev.peercred.internal.linux.SocketAddresses;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A listening Unix domain stream socket whose every accepted connection carries its client's
 * credentials.
 *
 * <p>{@link #accept()} reads the client's pid, uid and gid ({@code SO_PEERCRED}) before it returns;
 * a connection whose credentials cannot be read is closed and never handed out, and the listener
 * goes on accepting (fail closed). A caller that only wants a plain connection uses the result as a
 * {@link java.nio.channels.ByteChannel}; the same object carries the credentials.
 *
 * {@snippet :
 * try (UnixListener listener = UnixListener.bind(Path.of("/tmp/echo.sock"))) {
 *   while (true) {
 *     UnixConnection connection = listener.accept();
 *     Thread.ofVirtual().start(() -> serve(connection)); // connection.peerCredentials().uid() ...
 *   }
 * }
 * }
 *
 * <p><b>Threads and closing.</b> Any number of threads may call {@link #accept()}. {@link #close()}
 * may be called by any thread at any time: threads blocked in {@code accept()} fail promptly with
 * {@link java.nio.channels.AsynchronousCloseException}. Closing the listener does not close the
 * connections it accepted.
 */
public final class UnixListener implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("dev.peercred");

  private final NativeSocket socket;
  private final UnixSocketAddress address;
  private final ListenerOptions options;
  private final Object fileKey;
  private final AtomicLong credentialFailures = new AtomicLong();
  /** One waiter per descriptor and poller: concurrent accepts take turns. */
  private final ReentrantLock acceptLock = new ReentrantLock();

  /**
   * Fault injection for tests in this package: when non-zero, the credential read of every
   * accepted connection fails with this errno, as if {@code getsockopt(SO_PEERCRED)} had. Package
   * private and set by nothing else, so no configuration can reach it.
   */
  volatile int credentialReadFault;

  private UnixListener(
      NativeSocket socket, UnixSocketAddress address, ListenerOptions options, Object fileKey) {
    this.socket = socket;
    this.address = address;
    this.options = options;
    this.fileKey = fileKey;
  }

  /**
   * Binds a listener at {@code path} with the {@linkplain ListenerOptions#defaults() default
   * options}: a stale socket file left by a dead server is replaced, a live server's is not.
   *
   * @throws AddressInUseException if a server is already listening at {@code path}
   * @throws BindException if the path's directory does not exist or may not be written, or a file
   *     that is not a socket is in the way (it is left untouched)
   * @throws IllegalArgumentException if the path is empty or too long for a socket address
   * @throws UnsupportedOperationException on a platform other than Linux x86_64 or aarch64
   */
  public static UnixListener bind(Path path) throws IOException {
    return bind(UnixSocketAddress.of(path), ListenerOptions.defaults());
  }

  /**
   * Binds a listener at {@code path} with {@code options}.
   *
   * @see #bind(Path)
   */
  public static UnixListener bind(Path path, ListenerOptions options) throws IOException {
    return bind(UnixSocketAddress.of(path), options);
  }

  /**
   * Binds a listener at {@code address}, a path or an abstract name.
   *
   * @see #bind(Path)
   */
  public static UnixListener bind(UnixSocketAddress address, ListenerOptions options)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    Platform.ensureSupported();
    Path path = address.path().orElse(null);
    if (path != null && options.replaceStaleSocket()) {
      removeStaleSocket(address, path);
    }
    byte[] sockaddr = address.toSockaddr();
    NativeSocket socket = NativeSocket.openStream();
    try {
      socket.bindAndListen(sockaddr, sockaddr.length, options.backlog(), address.toString());
    } catch (NativeSocket.BindFailure e) {
      socket.close();
      if (e.errno() == Errno.EADDRINUSE) {
        throw new AddressInUseException(
            address,
            path != null
                ? "address already in use: " + address + " (a server listens there, or a file is in the way)"
                : "address already in use: " + address);
      }
      throw new BindException(e.getMessage());
    } catch (IOException | RuntimeException | Error e) {
      socket.close();
      throw e;
    }
    return new UnixListener(socket, address, options, path != null ? fileKey(path) : null);
  }

  /**
   * Removes the socket file at {@code path} if no server answers there; leaves anything else.
   */
  private static void removeStaleSocket(UnixSocketAddress address, Path path) throws IOException {
    Map<String, Object> attributes;
    try {
      attributes = Files.readAttributes(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return;
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return; // no unix attribute view: leave the decision to bind(2)
    }
    int mode = (Integer) attributes.get("mode");
    if ((mode & 0xF000) != 0xC000) { // S_IFMT, S_IFSOCK
      throw new BindException(
          "cannot bind " + path + ": a file that is not a socket is in the way (left untouched)");
    }
    try (UnixConnection probe = UnixConnection.connect(address, Duration.ofSeconds(1))) {
      throw new AddressInUseException(
          address, "address already in use: a server is listening at " + path);
    } catch (ConnectException e) {
      if (e.getMessage() != null && e.getMessage().contains(Errno.name(Errno.ECONNREFUSED))) {
        Files.deleteIfExists(path);
        LOG.log(Level.DEBUG, "removed stale socket {0}", path);
      }
      // Other errors (EACCES, ...): leave the file; bind(2) reports what is wrong.
    } catch (PeerCredentialsException e) {
      throw new AddressInUseException(
          address, "address already in use: a server is listening at " + path);
    }
  }

  private static Object fileKey(Path path) {
    try {
      Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
      return a.get("dev") + ":" + a.get("ino");
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Waits for a connection and returns it with its client's credentials already read.
   *
   * <p>A client that connected and went away before this call is still accepted (its credentials
   * were recorded at {@code connect(2)}); its connection reads end of stream.
   *
   * @throws java.nio.channels.ClosedChannelException if the listener is closed
   * @throws java.nio.channels.AsynchronousCloseException if it is closed while this call waits
   * @throws java.net.SocketException if {@code accept4(2)} fails, for example with {@code EMFILE}
   *     when the process has no descriptors left
   */
  public UnixConnection accept() throws IOException {
    acceptLock.lock();
    try {
      return acceptOne();
    } finally {
      acceptLock.unlock();
    }
  }

  private UnixConnection acceptOne() throws IOException {
    byte[] peer = new byte[SocketAddresses.SOCKADDR_UN_SIZE];
    int[] length = new int[1];
    int[] ucred = new int[3];
    while (true) {
      int fd = socket.accept(peer, length);
      int fault = credentialReadFault;
      int rc = fault != 0 ? -fault : Credentials.peerCred(fd, ucred);
      if (rc < 0) {
        LibC.close(fd);
        credentialFailures.incrementAndGet();
        LOG.log(
            Level.WARNING,
            "refused a connection on {0}: {1}",
            address,
            Errno.message("getsockopt(SO_PEERCRED)", -rc, "fd=" + fd));
        continue;
      }
      UnixSocketAddress remote =
          length[0] <= 2
              ? UnixSocketAddress.unnamed()
              : UnixSocketAddress.fromSockaddr(java.util.Arrays.copyOf(peer, length[0]));
      return new UnixConnection(
          NativeSocket.adopt(fd),
          PeerCredentials.fromUcred(ucred[0], ucred[1], ucred[2]),
          address,
          remote);
    }
  }

  /** The address this listener is bound to. */
  public UnixSocketAddress localAddress() {
    return address;
  }

  /** The options it was bound with. */
  public ListenerOptions options() {
    return options;
  }

  /** How many accepted connections were closed unseen because their credentials could not be read. */
  public long credentialFailures() {
    return credentialFailures.get();
  }

  /** True until {@link #close()} is called. */
  public boolean isOpen() {
    return !socket.isClosed();
  }

  /**
   * Stops listening and wakes threads blocked in {@link #accept()}. Removes the socket file if the
   * options say so and the file at the path is still the one this listener created (same device and
   * inode): a socket someone else has since put there is left alone. Idempotent.
   */
  @Override
  public void close() {
    if (socket.close() && options.removeOnClose() && fileKey != null) {
      Path path = address.path().orElseThrow();
      if (fileKey.equals(fileKey(path))) {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          LOG.log(Level.WARNING, "could not remove socket file {0}: {1}", path, e.toString());
        }
      }
    }
  }

  @Override
  public String toString() {
    return "UnixListener[" + address + ", " + socket + "]";
  }
}
