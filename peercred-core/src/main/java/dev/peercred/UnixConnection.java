package dev.peercred;

import dev.peercred.internal.linux.Credentials;
import dev.peercred.internal.linux.Errno;
import dev.peercred.internal.linux.LibC;
import dev.peercred.internal.linux.NativeSocket;
import dev.peercred.internal.linux.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A connected Unix domain stream socket that knows who is on the other end.
 *
 * <p>On a server, {@link UnixListener#accept()} returns one with the client's {@linkplain
 * #peerCredentials() credentials} already read; on a client, {@link #connect(Path)} returns one
 * with the server's. Either way the credentials were read once, before the connection was handed
 * out, and never change: they describe the peer at {@code connect(2)} (or {@code listen(2)}) time.
 *
 * <p>Use it as a {@link ByteChannel}, or through its {@linkplain #inputStream() input} and
 * {@linkplain #outputStream() output} streams. Blocking operations park the calling thread rather
 * than block it in the kernel, so a virtual thread per connection costs no carrier thread while it
 * waits; platform threads work the same way.
 *
 * <p><b>Threads and closing.</b> One thread may read while another writes; concurrent readers (or
 * writers) take turns. {@link #close()} may be called by any thread at any time, more than once: a
 * thread blocked reading or writing then fails promptly with {@link
 * java.nio.channels.AsynchronousCloseException}, and the descriptor is closed exactly once, after
 * the last system call on it has returned. Interrupting a thread blocked on the connection closes
 * it and throws {@link java.nio.channels.ClosedByInterruptException}.
 */
public final class UnixConnection implements ByteChannel {
  private final NativeSocket socket;
  private final PeerCredentials peerCredentials;
  private final UnixSocketAddress localAddress;
  private volatile UnixSocketAddress remoteAddress;
  private final ReentrantLock readLock = new ReentrantLock();
  private final ReentrantLock writeLock = new ReentrantLock();
  private volatile long readTimeoutNanos;
  private volatile long writeTimeoutNanos;
  private volatile PeerIdentity peerIdentity;
  private InputStream inputStream;
  private OutputStream outputStream;

  UnixConnection(
      NativeSocket socket,
      PeerCredentials peerCredentials,
      UnixSocketAddress localAddress,
      UnixSocketAddress remoteAddress) {
    this.socket = socket;
    this.peerCredentials = peerCredentials;
    this.localAddress = localAddress;
    this.remoteAddress = remoteAddress;
  }

  /**
   * Connects to the server listening at {@code path} and reads its credentials.
   *
   * @throws java.net.ConnectException if nothing listens there ({@code ECONNREFUSED}), the path
   *     does not exist ({@code ENOENT}) or may not be opened ({@code EACCES})
   * @throws PeerCredentialsException if the server's credentials cannot be read (the connection is
   *     then closed)
   * @throws IllegalArgumentException if the path is empty or too long for a socket address
   * @throws UnsupportedOperationException on a platform other than Linux x86_64 or aarch64
   */
  public static UnixConnection connect(Path path) throws IOException {
    return connect(UnixSocketAddress.of(path), Duration.ZERO);
  }

  /**
   * Connects to {@code address}, waiting at most {@code timeout} while the server's backlog is full
   * ({@link Duration#ZERO}: no limit).
   *
   * @throws java.net.SocketTimeoutException if the backlog stayed full for the whole timeout
   * @see #connect(Path)
   */
  public static UnixConnection connect(UnixSocketAddress address, Duration timeout)
      throws IOException {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout is negative: " + timeout);
    }
    Platform.ensureSupported();
    byte[] sockaddr = address.toSockaddr();
    NativeSocket socket = NativeSocket.openStream();
    try {
      socket.connect(sockaddr, sockaddr.length, nanos(timeout), address.toString());
      PeerCredentials server = readPeerCredentials(socket);
      return new UnixConnection(socket, server, UnixSocketAddress.unnamed(), address);
    } catch (IOException | RuntimeException | Error e) {
      socket.close();
      throw e;
    }
  }

  /** A timeout in nanoseconds; beyond what a {@code long} holds (292 years) means no limit. */
  private static long nanos(Duration timeout) {
    try {
      return timeout.toNanos();
    } catch (ArithmeticException e) {
      return 0;
    }
  }

  /**
   * Creates two connected sockets ({@code socketpair(2)}), for example to talk between threads or
   * to test a server without a socket file. Each end's {@linkplain #peerCredentials() credentials}
   * are read from the kernel ({@code SO_PEERCRED}) and describe this process as it was at this
   * call. Both ends are non-blocking and close-on-exec, with unnamed addresses.
   *
   * <p><b>Handing an end to a child process is not possible from Java:</b> {@link ProcessBuilder}
   * closes every descriptor above 2 in the child, and its redirects accept only files, pipes and
   * the parent's own standard streams. A child should instead connect to a listener, and the parent
   * should check that the connection's peer pid is the child's ({@link Process#pid()}): see {@code
   * docs/lifecycle.md}.
   *
   * @throws java.net.SocketException if {@code socketpair(2)} fails, for example with {@code
   *     EMFILE}
   */
  public static ConnectionPair pair() throws IOException {
    Platform.ensureSupported();
    int[] fds = new int[2];
    int rc =
        LibC.socketpair(
            LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0, fds);
    if (rc < 0) {
      throw Errno.socketException("socketpair(AF_UNIX, SOCK_STREAM)", -rc, null);
    }
    NativeSocket first = NativeSocket.adopt(fds[0]);
    NativeSocket second = NativeSocket.adopt(fds[1]);
    try {
      UnixSocketAddress unnamed = UnixSocketAddress.unnamed();
      return new ConnectionPair(
          new UnixConnection(first, readPeerCredentials(first), unnamed, unnamed),
          new UnixConnection(second, readPeerCredentials(second), unnamed, unnamed));
    } catch (IOException | RuntimeException | Error e) {
      first.close();
      second.close();
      throw e;
    }
  }

  /** The socket, for the relay engine. */
  NativeSocket socket() {
    return socket;
  }

  static PeerCredentials readPeerCredentials(NativeSocket socket) throws IOException {
    int fd = socket.acquire();
    try {
      return Credentials.read(fd);
    } finally {
      socket.release();
    }
  }

  /**
   * The credentials of the process on the other end, read by the kernel when the connection was
   * made; see {@link PeerCredentials} for what they do and do not prove.
   */
  public PeerCredentials peerCredentials() {
    return peerCredentials;
  }

  /**
   * Everything that can be learned about the peer: credentials, groups, security label, the pinned
   * process, names. Values beyond the credentials are read from the socket on first use, or at once
   * by {@link PeerIdentity#prefetch()} (to pin the process as early as possible). The identity, and
   * the pidfd it may hold, is closed with this connection.
   */
  public PeerIdentity peerIdentity() {
    PeerIdentity identity = peerIdentity;
    if (identity == null) {
      synchronized (this) {
        identity = peerIdentity;
        if (identity == null) {
          identity = new PeerIdentity(peerCredentials, socket);
          peerIdentity = identity;
        }
      }
    }
    return identity;
  }

  /** This end's address: the listener's path on a server, usually unnamed on a client. */
  public UnixSocketAddress localAddress() {
    return localAddress;
  }

  /** The other end's address: the server's path on a client, usually unnamed on a server. */
  public UnixSocketAddress remoteAddress() {
    UnixSocketAddress address = remoteAddress;
    if (address == null) {
      address = UnixSocketAddress.fromSockaddr(socket.address(true));
      remoteAddress = address;
    }
    return address;
  }

  /**
   * Reads bytes into {@code buffer}, waiting until at least one is available.
   *
   * @return the number of bytes read, or -1 at end of stream
   * @throws java.nio.channels.ClosedChannelException if the connection is closed
   * @throws java.net.SocketTimeoutException if a {@linkplain #setReadTimeout read timeout} passes
   * @throws java.net.SocketException with {@code ECONNRESET} if the peer closed with data unread
   * @throws IllegalArgumentException if {@code buffer} is read-only
   */
  @Override
  public int read(ByteBuffer buffer) throws IOException {
    Objects.requireNonNull(buffer, "buffer");
    if (!buffer.hasRemaining()) {
      return 0;
    }
    readLock.lock();
    try {
      return socket.read(buffer, readTimeoutNanos);
    } finally {
      readLock.unlock();
    }
  }

  /**
   * Writes some of the buffer's remaining bytes, waiting until at least one can be written.
   *
   * @return the number of bytes written
   * @throws java.net.SocketException with {@code EPIPE} if the peer has closed its end (the process
   *     gets no {@code SIGPIPE})
   * @throws java.net.SocketTimeoutException if a {@linkplain #setWriteTimeout write timeout} passes
   *     with nothing written
   */
  @Override
  public int write(ByteBuffer buffer) throws IOException {
    Objects.requireNonNull(buffer, "buffer");
    if (!buffer.hasRemaining()) {
      return 0;
    }
    writeLock.lock();
    try {
      return socket.write(buffer, writeTimeoutNanos);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * Writes all of {@code bytes[offset..offset+length)}.
   *
   * @throws java.net.SocketTimeoutException if a {@linkplain #setWriteTimeout write timeout} passes
   *     with no progress; some of the bytes may have been written
   * @throws IndexOutOfBoundsException if the range is outside the array
   */
  public void writeFully(byte[] bytes, int offset, int length) throws IOException {
    Objects.requireNonNull(bytes, "bytes");
    Objects.checkFromIndexSize(offset, length, bytes.length);
    writeLock.lock();
    try {
      while (length > 0) {
        int n = socket.write(bytes, offset, length, writeTimeoutNanos);
        offset += n;
        length -= n;
      }
    } finally {
      writeLock.unlock();
    }
  }

  int readBytes(byte[] bytes, int offset, int length) throws IOException {
    Objects.requireNonNull(bytes, "bytes");
    Objects.checkFromIndexSize(offset, length, bytes.length);
    if (length == 0) {
      return 0;
    }
    readLock.lock();
    try {
      return socket.read(bytes, offset, length, readTimeoutNanos);
    } finally {
      readLock.unlock();
    }
  }

  /**
   * Sets how long a read may wait for data before it fails with {@link
   * java.net.SocketTimeoutException}; {@link Duration#ZERO} (the default) waits without limit. The
   * connection stays usable after a timeout.
   *
   * @throws IllegalArgumentException if {@code timeout} is negative
   */
  public void setReadTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("read timeout is negative: " + timeout);
    }
    readTimeoutNanos = nanos(timeout);
  }

  /**
   * Sets how long a write may wait for room in the socket's send buffer before it fails with {@link
   * java.net.SocketTimeoutException}; {@link Duration#ZERO} (the default) waits without limit. The
   * limit applies to each wait for progress, so a peer that reads slowly but steadily is not cut
   * off, while one that stops reading is. Use it to bound what a peer that never reads can cost a
   * server. After a timeout, an unknown part of a {@link #writeFully} may have been sent: close the
   * connection.
   *
   * @throws IllegalArgumentException if {@code timeout} is negative
   */
  public void setWriteTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("write timeout is negative: " + timeout);
    }
    writeTimeoutNanos = nanos(timeout);
  }

  /**
   * An input stream that reads from this connection. Closing it closes the connection. Reads are
   * not buffered: wrap it in a {@link java.io.BufferedInputStream} or reader for small reads.
   */
  public synchronized InputStream inputStream() {
    if (inputStream == null) {
      inputStream =
          new InputStream() {
            @Override
            public int read() throws IOException {
              byte[] one = new byte[1];
              int n = readBytes(one, 0, 1);
              return n < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] bytes, int offset, int length) throws IOException {
              return readBytes(bytes, offset, length);
            }

            @Override
            public void close() {
              UnixConnection.this.close();
            }
          };
    }
    return inputStream;
  }

  /**
   * An output stream that writes to this connection; each write returns once all its bytes are
   * written. Closing it closes the connection; to signal end of stream while still reading, use
   * {@link #shutdownOutput()}.
   */
  public synchronized OutputStream outputStream() {
    if (outputStream == null) {
      outputStream =
          new OutputStream() {
            @Override
            public void write(int b) throws IOException {
              writeFully(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] bytes, int offset, int length) throws IOException {
              writeFully(bytes, offset, length);
            }

            @Override
            public void close() {
              UnixConnection.this.close();
            }
          };
    }
    return outputStream;
  }

  /**
   * Ends this side's output: the peer reads end of stream once it has read what was sent, while
   * this side can still read ({@code shutdown(SHUT_WR)}).
   */
  public void shutdownOutput() throws IOException {
    socket.shutdown(LibC.SHUT_WR);
  }

  /** Ends this side's input: further reads return end of stream ({@code shutdown(SHUT_RD)}). */
  public void shutdownInput() throws IOException {
    socket.shutdown(LibC.SHUT_RD);
  }

  /**
   * Refuses the peer politely and closes: writes {@code message} (for example the article's {@code
   * "Unauthorized access\n"}), ends output, reads and discards what the peer had already sent for
   * up to 200 ms, then closes.
   *
   * <p>A plain {@link #close()} with unread input would make the kernel reset the connection, and
   * the peer would see {@code ECONNRESET} instead of the message and a clean end of stream. Errors
   * are ignored: the connection is closed in every case.
   */
  public void refuse(String message) {
    try {
      byte[] bytes = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
      if (bytes.length > 0) {
        writeLock.lock();
        try {
          int offset = 0;
          while (offset < bytes.length) {
            offset +=
                socket.write(
                    bytes,
                    offset,
                    bytes.length - offset,
                    Math.max(1, deadline - System.nanoTime()));
          }
        } finally {
          writeLock.unlock();
        }
      }
      socket.shutdown(LibC.SHUT_WR);
      // Drain only if no other thread is reading: one waiter per descriptor.
      if (readLock.tryLock()) {
        try {
          byte[] sink = new byte[8192];
          long drained = 0;
          while (drained < (1 << 20)) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
              break;
            }
            int n = socket.read(sink, 0, sink.length, remaining);
            if (n < 0) {
              break;
            }
            drained += n;
          }
        } finally {
          readLock.unlock();
        }
      }
    } catch (IOException | RuntimeException e) {
      // The peer may be gone already; closing below is all that is left to do.
    } finally {
      close();
    }
  }

  /** True until {@link #close()} is called. */
  @Override
  public boolean isOpen() {
    return !socket.isClosed();
  }

  /**
   * Closes the connection and wakes any thread blocked on it, and closes its {@linkplain
   * #peerIdentity() peer identity}; idempotent.
   */
  @Override
  public void close() {
    socket.close();
    PeerIdentity identity = peerIdentity;
    if (identity != null) {
      identity.close();
    }
  }

  /** Reads well in a log line: {@code UnixConnection[fd=12, peer pid=42 uid=1000 gid=1000]}. */
  @Override
  public String toString() {
    return "UnixConnection[" + socket + ", peer " + peerCredentials + "]";
  }
}
