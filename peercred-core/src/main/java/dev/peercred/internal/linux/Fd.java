package dev.peercred.internal.linux;

import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A descriptor owned by peercred (a socket, a pidfd), closed exactly once and never while another
 * thread is inside a system call on it: every use holds a count between {@link #acquire()} and
 * {@link #release()}, and the last user after {@link #close()} closes it. Without this, a close
 * racing a use could let the number be reused by an unrelated file before the use.
 */
public final class Fd {
  private static final int CLOSED = 1 << 31;

  private final int fd;

  /** Bit 31: closed. Bits 0-30: threads using {@link #fd}. */
  private final AtomicInteger state = new AtomicInteger();

  private Fd(int fd) {
    this.fd = fd;
  }

  /** Takes ownership of {@code fd}, which must be close-on-exec. */
  public static Fd adopt(int fd) {
    if (fd < 0) {
      throw new IllegalArgumentException("not a descriptor: " + fd);
    }
    return new Fd(fd);
  }

  /**
   * Marks the descriptor in use.
   *
   * @return the descriptor number
   * @throws ClosedChannelException if it is closed
   */
  public int acquire() throws ClosedChannelException {
    while (true) {
      int s = state.get();
      if ((s & CLOSED) != 0) {
        throw new ClosedChannelException();
      }
      if (state.compareAndSet(s, s + 1)) {
        return fd;
      }
    }
  }

  /** Ends a use begun by {@link #acquire()}; closes the descriptor if it was the last one. */
  public void release() {
    if (state.decrementAndGet() == CLOSED) {
      LibC.close(fd);
    }
  }

  /** True once {@link #close()} has been called. */
  public boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }

  /**
   * Closes the descriptor now, or when its last user releases it. Idempotent.
   *
   * @return true if this call closed it
   */
  public boolean close() {
    return close(null);
  }

  /**
   * Closes the descriptor like {@link #close()}, running {@code whenMarked} after the descriptor is
   * marked closed and before it can actually be closed: new uses already fail, and the number
   * cannot have been reused yet (a socket wakes its waiters there).
   *
   * @return true if this call closed it
   */
  public boolean close(Runnable whenMarked) {
    int s;
    do {
      s = state.get();
      if ((s & CLOSED) != 0) {
        return false;
      }
    } while (!state.compareAndSet(s, s | CLOSED));
    try {
      if (whenMarked != null) {
        whenMarked.run();
      }
    } finally {
      release0(s); // closed whatever whenMarked did
    }
    return true;
  }

  /** Closes the descriptor now if nobody was using it when it was marked closed. */
  private void release0(int usersWhenMarked) {
    if (usersWhenMarked == 0) {
      LibC.close(fd);
    }
  }

  @Override
  public String toString() {
    return "fd=" + fd + (isClosed() ? " (closed)" : "");
  }
}
