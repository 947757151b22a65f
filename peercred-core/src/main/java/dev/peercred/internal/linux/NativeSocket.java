package dev.peercred.internal.linux;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.locks.LockSupport;

/**
 * A non-blocking socket descriptor with blocking operations that park instead of blocking in the
 * kernel, and a close that is safe against every concurrent use.
 *
 * <p>The descriptor is closed exactly once, and never while another thread is inside a system call
 * on it: every call holds a use count, and the last user after {@link #close()} closes it. A thread
 * parked waiting for readiness holds no use, so {@link #close()} wakes it at once, and it then
 * fails with {@link AsynchronousCloseException}.
 */
public final class NativeSocket {
  private static final long NO_DEADLINE = 0;

  static {
    // Load the error table and exceptions before they are needed: at EMFILE no class file can be
    // opened (from a class directory), and reporting that very error must not need one.
    Errno.name(Errno.EMFILE);
  }

  private final int fd;

  /** Use count and close-once state of {@link #fd}. */
  private final Fd descriptor;

  /**
   * Whether reads (or, on a listening socket, accepts) have lately succeeded by retrying briefly
   * instead of parking (see {@link Spin}). A heuristic only: updated without synchronization, a
   * lost update is harmless.
   */
  private int spinCredit = Spin.MAX_CREDIT / 2;

  private int waitsWithoutSpin;

  /** Which pollers have registered the descriptor: {@link #IN_READS}, {@link #IN_WRITES}. */
  private volatile int registered;

  private static final int IN_READS = 1;
  private static final int IN_WRITES = 2;

  private NativeSocket(int fd) {
    this.fd = fd;
    this.descriptor = Fd.adopt(fd);
  }

  /** Takes ownership of {@code fd}, which must already be non-blocking and close-on-exec. */
  public static NativeSocket adopt(int fd) {
    return new NativeSocket(fd);
  }

  /** Opens a new non-blocking, close-on-exec {@code AF_UNIX} stream socket. */
  public static NativeSocket openStream() throws IOException {
    Platform.ensureSupported();
    int fd =
        LibC.socket(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw Errno.socketException("socket(AF_UNIX, SOCK_STREAM)", -fd, null);
    }
    return new NativeSocket(fd);
  }

  /** The descriptor number, for messages and for integrations that read options from it. */
  public int fd() {
    return fd;
  }

  public boolean isClosed() {
    return descriptor.isClosed();
  }

  /**
   * Marks the descriptor for use by a system call.
   *
   * @return the descriptor number
   * @throws ClosedChannelException if the socket is closed
   */
  public int acquire() throws ClosedChannelException {
    return descriptor.acquire();
  }

  /** Ends a use begun by {@link #acquire()}; closes the descriptor if it was the last one. */
  public void release() {
    descriptor.release();
  }

  /**
   * Closes the socket: wakes every thread waiting on it, and closes the descriptor as soon as no
   * thread is inside a system call on it. Idempotent.
   *
   * @return true if this call closed it, false if it was already closed
   */
  public boolean close() {
    return close(null);
  }

  /**
   * Closes the socket like {@link #close()}, running {@code whileOpen} (if not null, and only in
   * the call that closes it) after its waiters are woken and before the descriptor is actually
   * closed: a listener removes its socket file there, while the file's inode is still its own.
   *
   * @return true if this call closed it, false if it was already closed
   */
  public boolean close(Runnable whileOpen) {
    return descriptor.close(
        () -> {
          Poller.wakeupAll(fd);
          Runnable listener = closeListener;
          if (listener != null) {
            listener.run();
          }
          if (whileOpen != null) {
            whileOpen.run();
          }
        });
  }

  /**
   * Whoever drives this descriptor outside the pollers (a {@link RelayEngine} relay) and must hear
   * of a close at once; null when nobody does.
   */
  private volatile Runnable closeListener;

  /** Sets (or clears, with null) what {@link #close()} runs after marking the socket closed. */
  void closeListener(Runnable listener) {
    this.closeListener = listener;
  }

  /**
   * Parks until {@code poller} reports {@code events} on the descriptor, the socket is closed, the
   * deadline passes or the thread is interrupted. Called with the descriptor not held.
   *
   * @param deadline a {@link System#nanoTime()} value, or 0 for none
   */
  private void await(Poller poller, int events, long deadline, String operation)
      throws IOException {
    int rc;
    int bit = poller == Poller.reads() ? IN_READS : IN_WRITES;
    acquire();
    try {
      rc = poller.arm(fd, events, (registered & bit) != 0);
    } finally {
      release();
    }
    if (rc == 0 && (registered & bit) == 0) {
      // A reader and a writer setting their bits at once may lose one: that costs a failed ADD
      // at a later wait, which arm() then retries as a MOD.
      registered |= bit;
    }
    if (rc < 0) {
      throw Errno.socketException("epoll_ctl", -rc, "fd=" + fd);
    }
    if (isClosed()) {
      poller.disarm(fd);
      throw new AsynchronousCloseException();
    }
    if (deadline == NO_DEADLINE) {
      LockSupport.park(this);
    } else {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        poller.disarm(fd);
        throw new SocketTimeoutException(operation + " timed out");
      }
      LockSupport.parkNanos(this, remaining);
    }
    poller.disarm(fd);
    if (isClosed()) {
      throw new AsynchronousCloseException();
    }
    if (Thread.currentThread().isInterrupted()) {
      close();
      throw new ClosedByInterruptException();
    }
  }

  private static long deadline(long timeoutNanos) {
    if (timeoutNanos <= 0) {
      return NO_DEADLINE;
    }
    long d = System.nanoTime() + timeoutNanos;
    return d == NO_DEADLINE ? 1 : d;
  }

  private static void checkTimeout(long deadline, String operation) throws SocketTimeoutException {
    if (deadline != NO_DEADLINE && deadline - System.nanoTime() <= 0) {
      throw new SocketTimeoutException(operation + " timed out");
    }
  }

  /**
   * Accepts a connection, waiting for one if needed.
   *
   * @param address receives the peer's {@code sockaddr_un}
   * @param length on entry {@code address.length}; on return the address length
   * @return the new descriptor, non-blocking and close-on-exec
   */
  public int accept(byte[] address, int[] length) throws IOException {
    while (true) {
      int rc = accept4(address, length);
      if (rc == -Errno.EAGAIN && spinPays()) {
        // A server under load has the next connection in its backlog within microseconds;
        // retrying saves the park, the poller's wake-up and the hand-off back to this thread.
        rc = (int) spin(() -> accept4(address, length), NO_DEADLINE);
      }
      if (rc >= 0) {
        return rc;
      }
      switch (-rc) {
        case Errno.EAGAIN -> await(Poller.reads(), LibC.EPOLLIN, NO_DEADLINE, "accept");
        // The peer went away between its connect and our accept: try the next one.
        case Errno.EINTR, Errno.ECONNABORTED -> {}
        default -> throw Errno.socketException("accept4", -rc, "fd=" + fd);
      }
    }
  }

  private int accept4(byte[] address, int[] length) throws ClosedChannelException {
    length[0] = address.length;
    int fd = acquire();
    try {
      return LibC.accept4(fd, address, length, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
    } finally {
      release();
    }
  }

  /**
   * Reads up to {@code length} bytes into {@code buffer}, waiting for at least one.
   *
   * @return the number of bytes read, or -1 at end of stream
   */
  public int read(MemorySegment buffer, long length, long timeoutNanos) throws IOException {
    if (length == 0) {
      return 0;
    }
    long deadline = deadline(timeoutNanos);
    while (true) {
      long n = recv(buffer, length);
      if (n == -Errno.EAGAIN && spinPays()) {
        n = spin(() -> recv(buffer, length), deadline);
      }
      if (n > 0) {
        return (int) n;
      }
      if (n == 0) {
        return -1;
      }
      switch ((int) -n) {
        case Errno.EAGAIN -> {
          checkTimeout(deadline, "read");
          await(Poller.reads(), LibC.EPOLLIN | LibC.EPOLLRDHUP, deadline, "read");
        }
        case Errno.EINTR -> {}
        default -> throw Errno.socketException("recv", (int) -n, "fd=" + fd);
      }
    }
  }

  private long recv(MemorySegment buffer, long length) throws ClosedChannelException {
    int fd = acquire();
    try {
      return LibC.recv(fd, buffer, length, 0);
    } finally {
      release();
    }
  }

  /** One non-blocking try of a read or an accept: its result, {@code -EAGAIN} if it would block. */
  @FunctionalInterface
  private interface Attempt {
    long attempt() throws IOException;
  }

  /**
   * After an attempt found nothing: whether this socket's recent history says a brief retry pays
   * (see {@link Spin}). Checked before {@link #spin}, so a socket that parks at once builds no
   * attempt to retry.
   */
  private boolean spinPays() {
    return spinCredit > 0 || ++waitsWithoutSpin >= Spin.PROBE_INTERVAL;
  }

  /**
   * Retries {@code attempt} if no other thread is spinning (see {@link Spin}), yielding between
   * tries, until it succeeds or the spin budget (or {@code deadline}) runs out.
   *
   * @return the last attempt's result; {@code -EAGAIN} if the caller should park
   */
  private long spin(Attempt attempt, long deadline) throws IOException {
    if (!Spin.tryStart()) {
      return -Errno.EAGAIN;
    }
    waitsWithoutSpin = 0;
    long n;
    try {
      long end = System.nanoTime() + Spin.BUDGET_NANOS;
      if (deadline != NO_DEADLINE && deadline - end < 0) {
        end = deadline;
      }
      do {
        Spin.pause();
        if (isClosed()) {
          throw new AsynchronousCloseException();
        }
        n = attempt.attempt();
      } while (n == -Errno.EAGAIN && System.nanoTime() - end < 0);
    } finally {
      Spin.end();
    }
    if (n == -Errno.EAGAIN) {
      spinCredit = Math.max(spinCredit - Spin.MISS_COST, 0);
    } else {
      spinCredit = Math.min(spinCredit + 1, Spin.MAX_CREDIT);
    }
    return n;
  }

  /**
   * Reads into {@code bytes[offset..offset+length)}; see {@link #read(MemorySegment, long, long)}.
   */
  public int read(byte[] bytes, int offset, int length, long timeoutNanos) throws IOException {
    java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
    return read(MemorySegment.ofArray(bytes).asSlice(offset, length), length, timeoutNanos);
  }

  /** Reads into the buffer's remaining space and advances its position. */
  public int read(java.nio.ByteBuffer buffer, long timeoutNanos) throws IOException {
    if (buffer.isReadOnly()) {
      throw new IllegalArgumentException("read-only buffer");
    }
    int n = read(MemorySegment.ofBuffer(buffer), buffer.remaining(), timeoutNanos);
    if (n > 0) {
      buffer.position(buffer.position() + n);
    }
    return n;
  }

  /**
   * Writes some of {@code bytes[offset..offset+length)}; see {@link #write(MemorySegment, long,
   * long)}.
   */
  public int write(byte[] bytes, int offset, int length, long timeoutNanos) throws IOException {
    java.util.Objects.checkFromIndexSize(offset, length, bytes.length);
    return write(MemorySegment.ofArray(bytes).asSlice(offset, length), length, timeoutNanos);
  }

  /** Writes some of the buffer's remaining bytes and advances its position. */
  public int write(java.nio.ByteBuffer buffer, long timeoutNanos) throws IOException {
    int n = write(MemorySegment.ofBuffer(buffer), buffer.remaining(), timeoutNanos);
    buffer.position(buffer.position() + n);
    return n;
  }

  /**
   * Reads what is available now into {@code bytes}, without waiting; see {@link
   * #readNow(MemorySegment, long)}.
   */
  public int readNow(byte[] bytes) throws IOException {
    return readNow(MemorySegment.ofArray(bytes), bytes.length);
  }

  /**
   * Reads whatever is available now without waiting.
   *
   * @return bytes read, 0 if none are available, or -1 at end of stream
   */
  public int readNow(MemorySegment buffer, long length) throws IOException {
    long n;
    int fd = acquire();
    try {
      n = LibC.recv(fd, buffer, length, 0); // LibC adds MSG_DONTWAIT to every recv
    } finally {
      release();
    }
    if (n > 0) {
      return (int) n;
    }
    if (n == 0) {
      return -1;
    }
    if (n == -Errno.EAGAIN || n == -Errno.EINTR) {
      return 0;
    }
    throw Errno.socketException("recv", (int) -n, "fd=" + fd);
  }

  /**
   * Writes some of {@code length} bytes of {@code buffer}, waiting until at least one can be
   * written.
   *
   * @return the number of bytes written, at least 1
   */
  public int write(MemorySegment buffer, long length, long timeoutNanos) throws IOException {
    if (length == 0) {
      return 0;
    }
    long deadline = deadline(timeoutNanos);
    while (true) {
      long n;
      int fd = acquire();
      try {
        n = LibC.send(fd, buffer, length, LibC.MSG_NOSIGNAL);
      } finally {
        release();
      }
      if (n >= 0) {
        return (int) n;
      }
      switch ((int) -n) {
        case Errno.EAGAIN -> {
          checkTimeout(deadline, "write");
          await(Poller.writes(), LibC.EPOLLOUT, deadline, "write");
        }
        case Errno.EINTR -> {}
        default -> throw Errno.socketException("send", (int) -n, "fd=" + fd);
      }
    }
  }

  /**
   * Connects to {@code sockaddr}. A non-blocking {@code AF_UNIX} connect fails with {@code EAGAIN}
   * while the server's backlog is full, and nothing signals when room appears; it is retried with a
   * growing pause (10 µs to 10 ms) until the deadline.
   */
  public void connect(byte[] sockaddr, int length, long timeoutNanos, String target)
      throws IOException {
    long deadline = deadline(timeoutNanos);
    long pause = 10_000;
    while (true) {
      int rc;
      int fd = acquire();
      try {
        rc = LibC.connect(fd, sockaddr, length);
      } finally {
        release();
      }
      if (rc == 0 || rc == -Errno.EINTR && isConnected()) {
        return;
      }
      if (rc == -Errno.EAGAIN) {
        checkTimeout(deadline, "connect to " + target);
        LockSupport.parkNanos(pause);
        pause = Math.min(pause * 2, 10_000_000);
        if (Thread.interrupted()) {
          close();
          throw new InterruptedIOException("connect to " + target + " interrupted");
        }
        if (isClosed()) {
          throw new AsynchronousCloseException();
        }
        continue;
      }
      if (rc != -Errno.EINTR) {
        throw Errno.connectException(-rc, target);
      }
    }
  }

  private boolean isConnected() throws IOException {
    byte[] address = new byte[SocketAddresses.SOCKADDR_UN_SIZE];
    int[] length = {address.length};
    int fd = acquire();
    try {
      return LibC.getpeername(fd, address, length) == 0;
    } finally {
      release();
    }
  }

  /** {@code shutdown(2)}; {@code ENOTCONN} (peer already gone) is not an error. */
  public void shutdown(int how) throws IOException {
    int fd = acquire();
    try {
      int rc = LibC.shutdown(fd, how);
      if (rc < 0 && rc != -Errno.ENOTCONN) {
        throw Errno.socketException("shutdown", -rc, "fd=" + fd);
      }
    } finally {
      release();
    }
  }

  /** {@code bind(2)} and {@code listen(2)}. */
  public void bindAndListen(byte[] sockaddr, int length, int backlog, String target)
      throws IOException {
    int fd = acquire();
    try {
      int rc = LibC.bind(fd, sockaddr, length);
      if (rc < 0) {
        throw Errno.bindException("bind", -rc, target);
      }
      rc = LibC.listen(fd, backlog);
      if (rc < 0) {
        throw Errno.socketException("listen", -rc, target);
      }
    } finally {
      release();
    }
  }

  /** Reads an {@code int} socket option. */
  public int intOption(int level, int name, String optionName) throws IOException {
    int[] value = new int[1];
    int[] length = {4};
    int fd = acquire();
    try {
      int rc = LibC.getsockopt(fd, level, name, value, length);
      if (rc < 0) {
        throw Errno.socketException("getsockopt(" + optionName + ")", -rc, "fd=" + fd);
      }
      return value[0];
    } finally {
      release();
    }
  }

  /** The local or peer address as a raw {@code sockaddr_un}, or null if it cannot be read. */
  public byte[] address(boolean peer) {
    byte[] address = new byte[SocketAddresses.SOCKADDR_UN_SIZE];
    int[] length = {address.length};
    int fd;
    try {
      fd = acquire();
    } catch (ClosedChannelException e) {
      return null;
    }
    try {
      int rc = peer ? LibC.getpeername(fd, address, length) : LibC.getsockname(fd, address, length);
      return rc < 0 ? null : java.util.Arrays.copyOf(address, Math.min(length[0], address.length));
    } finally {
      release();
    }
  }

  @Override
  public String toString() {
    return "fd=" + fd + (isClosed() ? " (closed)" : "");
  }
}
