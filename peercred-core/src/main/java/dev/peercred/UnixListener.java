package dev.peercred;

import dev.peercred.internal.linux.Credentials;
import dev.peercred.internal.linux.Errno;
import dev.peercred.internal.linux.LibC;
import dev.peercred.internal.linux.Lifecycle;
import dev.peercred.internal.linux.NativeSocket;
import dev.peercred.internal.linux.Platform;
import dev.peercred.internal.linux.SocketAddresses;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = accept}
 *
 * <p><b>Threads and closing.</b> Any number of threads may call {@link #accept()}. {@link #close()}
 * may be called by any thread at any time: threads blocked in {@code accept()} fail promptly with
 * {@link java.nio.channels.AsynchronousCloseException}. Closing the listener does not close the
 * connections it accepted; {@link #closeGracefully(Duration)} also waits for them to finish.
 *
 * <p>See {@code docs/lifecycle.md} for permissions, stale sockets, abstract names and socket
 * activation ({@link SocketActivation}).
 */
public final class UnixListener implements Listener {
  private static final System.Logger LOG = System.getLogger("dev.peercred");

  private final NativeSocket socket;
  private final UnixSocketAddress address;
  private final ListenerOptions options;

  /** The socket file this listener bound and removes on close; null without one. */
  private final SocketFile file;

  private final AtomicLong credentialFailures = new AtomicLong();

  /** One waiter per descriptor and poller: concurrent accepts take turns. */
  private final ReentrantLock acceptLock = new ReentrantLock();

  private final Set<UnixConnection> accepted = ConcurrentHashMap.newKeySet();

  /** Threads inside {@link #accept()}: one may hold a connection not yet in {@link #accepted}. */
  private final java.util.concurrent.atomic.AtomicInteger accepting =
      new java.util.concurrent.atomic.AtomicInteger();

  private volatile int pruneAt = 64;

  /**
   * Fault injection for tests in this package: when non-zero, the credential read of every accepted
   * connection fails with this errno, as if {@code getsockopt(SO_PEERCRED)} had. Package private
   * and set by nothing else, so no configuration can reach it.
   */
  volatile int credentialReadFault;

  private UnixListener(
      NativeSocket socket, UnixSocketAddress address, ListenerOptions options, SocketFile file) {
    this.socket = socket;
    this.address = address;
    this.options = options;
    this.file = file;
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
   * <p>With a {@linkplain ListenerOptions#mode() mode}, {@linkplain ListenerOptions#owner() owner}
   * or {@linkplain ListenerOptions#group() group}, the socket is bound in a new private directory
   * (mode 0700, named {@code .pc} and eight hex digits) in the path's directory, given its
   * permissions there, and then hard-linked into place with {@code link(2)}, which never replaces
   * an existing file; the private directory is removed before this method returns. The socket is
   * therefore never reachable at the path with wider permissions than asked. The private socket
   * path is 12 bytes longer than the directory name, and must fit the 107-byte limit too.
   *
   * <p>An abstract address has no file and no permissions: any process in the network namespace may
   * connect. Check each connection's {@linkplain UnixConnection#peerCredentials() credentials}.
   *
   * @throws AddressInUseException if a server is already listening there, or a file appeared at the
   *     path while binding
   * @throws BindException if a file that is not a socket is in the way (it is left untouched), the
   *     directory does not exist or may not be written, or the owner or group cannot be set
   * @throws IllegalArgumentException if {@code address} is unnamed, or is abstract and {@code
   *     options} set a mode, owner or group
   * @see #bind(Path)
   */
  public static UnixListener bind(UnixSocketAddress address, ListenerOptions options)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(options, "options");
    Platform.ensureSupported();
    if (address.isUnnamed()) {
      throw new IllegalArgumentException("cannot bind the unnamed address; give a path or @name");
    }
    Path path = address.path().orElse(null);
    if (path == null && options.setsPermissions()) {
      throw new IllegalArgumentException(
          "abstract socket "
              + address
              + " has no file, so mode, owner and group cannot apply;"
              + " check peer credentials instead");
    }
    if (path != null && options.replaceStaleSocket()) {
      if (SocketFile.removeIfStale(path)) {
        LOG.log(Level.DEBUG, "removed stale socket {0}", path);
      }
    }
    if (path != null && options.setsPermissions()) {
      return bindPrivately(address, path, options);
    }
    byte[] sockaddr = address.toSockaddr();
    NativeSocket socket = NativeSocket.openStream();
    try {
      socket.bindAndListen(sockaddr, sockaddr.length, options.backlog(), address.toString());
    } catch (IOException | RuntimeException | Error e) {
      socket.close();
      if (e instanceof BindException
          && e instanceof SystemCallError failed
          && failed.errno() == Errno.EADDRINUSE) {
        throw Errno.addressInUse(
            address,
            path != null
                ? address + ": a server listens there, or a file is in the way"
                : address.toString());
      }
      throw e;
    }
    return new UnixListener(socket, address, options, path != null ? boundFile(path) : null);
  }

  /**
   * Binds in a private directory next to {@code path}, applies mode and ownership there, then links
   * the socket into place (never replacing anything).
   */
  private static UnixListener bindPrivately(
      UnixSocketAddress address, Path path, ListenerOptions options) throws IOException {
    Path directory = path.getParent();
    if (directory == null) {
      throw new IllegalArgumentException("socket path has no directory: " + path);
    }
    Path privateDirectory = createPrivateDirectory(directory);
    Path privateSocket = privateDirectory.resolve("s");
    NativeSocket socket = null;
    try {
      UnixSocketAddress privateAddress;
      try {
        privateAddress = UnixSocketAddress.of(privateSocket);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "socket path too long to bind with permissions (binding goes through "
                + privateSocket
                + "): "
                + e.getMessage(),
            e);
      }
      byte[] sockaddr = privateAddress.toSockaddr();
      socket = NativeSocket.openStream();
      socket.bindAndListen(sockaddr, sockaddr.length, options.backlog(), privateSocket.toString());
      if (options.owner().isPresent() || options.group().isPresent()) {
        int uid = (int) options.owner().orElse(0xFFFF_FFFFL);
        int gid = (int) options.group().orElse(0xFFFF_FFFFL);
        int rc = Lifecycle.lchown(privateSocket, uid, gid);
        if (rc < 0) {
          throw Errno.bindException(
              "lchown",
              -rc,
              "cannot give " + path + " owner " + options.owner() + " group " + options.group());
        }
      }
      if (options.mode().isPresent()) {
        int rc = Lifecycle.chmod(privateSocket, options.mode().getAsInt());
        if (rc < 0) {
          throw Errno.bindException("chmod", -rc, privateSocket.toString());
        }
      }
      SocketFile file;
      try {
        file = SocketFile.of(privateSocket).linkAs(path);
      } catch (FileAlreadyExistsException e) {
        throw new AddressInUseException(
            address, "address already in use: a file appeared at " + path + " while binding");
      }
      UnixListener listener = new UnixListener(socket, address, options, file);
      socket = null;
      return listener;
    } finally {
      if (socket != null) {
        socket.close();
      }
      try {
        Files.deleteIfExists(privateSocket);
        Files.deleteIfExists(privateDirectory);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "could not remove {0}: {1}", privateDirectory, e.toString());
      }
    }
  }

  private static Path createPrivateDirectory(Path directory) throws IOException {
    var attribute =
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
    for (int attempt = 0; ; attempt++) {
      byte[] random = new byte[4];
      ThreadLocalRandom.current().nextBytes(random);
      Path candidate = directory.resolve(".pc" + HexFormat.of().formatHex(random));
      try {
        return Files.createDirectory(candidate, attribute);
      } catch (FileAlreadyExistsException e) {
        if (attempt == 100) {
          throw e;
        }
      } catch (NoSuchFileException e) {
        throw new BindException("cannot bind in " + directory + ": no such directory");
      } catch (java.nio.file.AccessDeniedException e) {
        throw new BindException("cannot bind in " + directory + ": permission denied");
      }
    }
  }

  /**
   * Wraps an inherited listening descriptor (already checked, non-blocking and close-on-exec). The
   * listener never removes a file on close: the file belongs to whoever created the socket.
   */
  static UnixListener adopt(NativeSocket socket) {
    UnixSocketAddress address = UnixSocketAddress.fromSockaddr(socket.address(false));
    return new UnixListener(
        socket, address, ListenerOptions.defaults().withRemoveOnClose(false), null);
  }

  /** The file just bound at {@code path}; null (never removed on close) if it cannot be read. */
  private static SocketFile boundFile(Path path) {
    try {
      return SocketFile.of(path);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "{0} will not be removed on close: {1}", path, e.toString());
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
  @Override
  public UnixConnection accept() throws IOException {
    accepting.incrementAndGet();
    try {
      acceptLock.lock();
      try {
        return acceptOne();
      } finally {
        acceptLock.unlock();
      }
    } finally {
      accepting.decrementAndGet();
    }
  }

  private UnixConnection acceptOne() throws IOException {
    byte[] peer = new byte[SocketAddresses.SOCKADDR_UN_SIZE];
    int[] length = new int[1];
    while (true) {
      int fd = socket.accept(peer, length);
      PeerCredentials credentials;
      try {
        int fault = credentialReadFault;
        if (fault != 0) {
          throw Errno.peerCredentialsException(fault, "fd=" + fd);
        }
        credentials = Credentials.read(fd);
      } catch (PeerCredentialsException e) {
        LibC.close(fd);
        credentialFailures.incrementAndGet();
        LOG.log(Level.WARNING, "refused a connection on {0}: {1}", address, e.getMessage());
        continue;
      }
      UnixSocketAddress remote =
          length[0] <= 2
              ? UnixSocketAddress.unnamed()
              : UnixSocketAddress.fromSockaddr(java.util.Arrays.copyOf(peer, length[0]));
      UnixConnection connection =
          new UnixConnection(NativeSocket.adopt(fd), credentials, address, remote);
      accepted.add(connection);
      if (accepted.size() >= pruneAt) { // forget closed connections; amortized O(1) per accept
        accepted.removeIf(c -> !c.isOpen());
        pruneAt = Math.max(64, accepted.size() * 2);
      }
      return connection;
    }
  }

  /** The address this listener is bound to. */
  @Override
  public UnixSocketAddress localAddress() {
    return address;
  }

  /** The options it was bound with. */
  public ListenerOptions options() {
    return options;
  }

  /**
   * How many accepted connections were closed unseen because their credentials could not be read.
   */
  public long credentialFailures() {
    return credentialFailures.get();
  }

  /**
   * How many connections this listener accepted that are still open. A connection counts until it
   * is closed by {@link UnixConnection#close()}, its streams, {@link UnixConnection#refuse}, or an
   * interrupt.
   */
  public int openConnections() {
    accepted.removeIf(c -> !c.isOpen());
    return accepted.size();
  }

  /**
   * Stops accepting, then waits up to {@code timeout} for the connections this listener accepted to
   * be closed by whoever serves them; connections still open after that are closed, which wakes
   * their blocked readers and writers with {@link java.nio.channels.AsynchronousCloseException}.
   * New clients are refused from the start ({@code ECONNREFUSED} or {@code ENOENT}), and the socket
   * file is removed as by {@link #close()}.
   *
   * @param timeout how long open connections may take to finish; {@link Duration#ZERO} closes them
   *     at once
   * @return true if every connection finished within the timeout, false if some were closed
   * @throws InterruptedException if the thread is interrupted while waiting (connections are then
   *     left open)
   * @throws IllegalArgumentException if {@code timeout} is negative
   */
  @Override
  public boolean closeGracefully(Duration timeout) throws InterruptedException {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout is negative: " + timeout);
    }
    close();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      accepted.removeIf(c -> !c.isOpen());
      if (accepted.isEmpty() && accepting.get() == 0) {
        return true;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        break;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(left, 10_000_000L)); // closing sends no notice: poll
    }
    int forced = 0;
    for (UnixConnection connection : accepted) {
      if (connection.isOpen()) {
        connection.close();
        forced++;
      }
    }
    LOG.log(
        Level.INFO, "{0}: closed {1} connections still open after {2}", address, forced, timeout);
    return forced == 0;
  }

  /** True until {@link #close()} is called. */
  @Override
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
    socket.close(options.removeOnClose() && file != null ? this::removeFile : null);
  }

  /** Runs while the socket is still open, so that no other file can have its inode yet. */
  private void removeFile() {
    try {
      file.deleteIfUnchanged();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "could not remove socket file {0}: {1}", file.path(), e.toString());
    }
  }

  @Override
  public String toString() {
    return "UnixListener[" + address + ", " + socket + "]";
  }
}
