package dev.peercred.internal.linux;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.SocketException;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;

/**
 * Parks threads that wait for a descriptor to become ready, and unparks them when epoll says it is.
 *
 * <p>One platform thread per poller sits in {@code epoll_wait}; the threads that wait (virtual or
 * platform) never block in a system call, so a virtual thread's carrier is free while it waits.
 * Each wait arms the descriptor with {@code EPOLLONESHOT} in level-triggered mode: readiness that
 * arrived between the caller's {@code EAGAIN} and the arming is reported at once, so no wake-up is
 * lost, and a descriptor nobody waits on raises no events.
 *
 * <p>A waiter is kept in a slot indexed by descriptor number. Descriptor numbers are reused as soon
 * as they are closed, so an event may find the slot taken by a newer connection with the same
 * number; that costs the newer waiter one spurious wake-up, which every wait loop tolerates.
 */
public final class Poller {
  private static final int CHUNK_BITS = 10;
  private static final int CHUNK_SIZE = 1 << CHUNK_BITS;
  private static final int MAX_EVENTS = 256;

  private static final String READ_NAME = "peercred-read-poller";
  private static final String WRITE_NAME = "peercred-write-poller";

  /** Started at the first wait (never when a class loads), and again after a failed start. */
  private static volatile Poller reads;

  private static volatile Poller writes;

  /**
   * The poller for read readiness (and accept), started on first use.
   *
   * @throws IOException if it cannot be started now ({@code epoll_create1} fails, for example with
   *     {@code EMFILE}, or its thread cannot be created); the next call tries again
   */
  public static Poller reads() throws IOException {
    Poller poller = reads;
    return poller != null ? poller : start(true);
  }

  /**
   * The poller for write readiness, started on first use.
   *
   * @throws IOException if it cannot be started now; the next call tries again
   */
  public static Poller writes() throws IOException {
    Poller poller = writes;
    return poller != null ? poller : start(false);
  }

  private static synchronized Poller start(boolean forReads) throws IOException {
    Poller poller = forReads ? reads : writes;
    if (poller == null) {
      poller = new Poller(forReads ? READ_NAME : WRITE_NAME);
      if (forReads) {
        reads = poller;
      } else {
        writes = poller;
      }
    }
    return poller;
  }

  /**
   * Unparks whoever waits on {@code fd} in either poller; used when the descriptor is being closed.
   * Starts nothing: a poller not yet started has no waiters.
   */
  public static void wakeupAll(int fd) {
    Poller poller = reads;
    if (poller != null) {
      poller.wakeup(fd);
    }
    poller = writes;
    if (poller != null) {
      poller.wakeup(fd);
    }
  }

  private final int epfd;
  private final Object growLock = new Object();

  /** Chunks never move once made; only this array of references is replaced when it grows. */
  @SuppressWarnings("unchecked")
  private volatile AtomicReferenceArray<Thread>[] chunks = new AtomicReferenceArray[16];

  private Poller(String name) throws IOException {
    int fd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
    if (fd < 0) {
      throw Errno.socketException("epoll_create1", -fd, "starting " + name);
    }
    this.epfd = fd; // before the thread starts: it reads epfd
    try {
      Thread thread = Thread.ofPlatform().name(name).daemon().unstarted(this::run);
      thread.setPriority(Thread.MAX_PRIORITY);
      thread.start();
    } catch (OutOfMemoryError | RuntimeException e) {
      // An OutOfMemoryError from start() is how the JVM says the system refused a new thread.
      LibC.close(fd);
      throw new SocketException("cannot start the " + name + " thread: " + e, e);
    }
  }

  private AtomicReferenceArray<Thread> chunk(int fd, boolean create) {
    int index = fd >>> CHUNK_BITS;
    AtomicReferenceArray<Thread>[] current = chunks;
    if (index < current.length && current[index] != null) {
      return current[index];
    }
    if (!create) {
      return null;
    }
    synchronized (growLock) {
      current = chunks;
      if (index >= current.length) {
        current = java.util.Arrays.copyOf(current, Math.max(index + 1, current.length * 2));
      } else if (current[index] != null) {
        return current[index];
      } else {
        current = current.clone();
      }
      current[index] = new AtomicReferenceArray<>(CHUNK_SIZE);
      chunks = current;
      return current[index];
    }
  }

  /**
   * Registers the current thread as the waiter for {@code events} on {@code fd} and arms the
   * descriptor. The caller must hold the descriptor (so its number cannot be reused meanwhile) and
   * then park until unparked, re-checking its condition after every wake-up.
   *
   * @param added whether this poller already knows the descriptor (an earlier {@code arm} for it
   *     succeeded): then one {@code EPOLL_CTL_MOD} re-arms it, otherwise one {@code EPOLL_CTL_ADD}
   *     registers it, and a new connection's first wait costs one system call, not a failed MOD and
   *     an ADD
   * @return 0, or {@code -errno} if the descriptor could not be armed (then nothing is registered)
   */
  public int arm(int fd, int events, boolean added) {
    AtomicReferenceArray<Thread> slots = chunk(fd, true);
    int slot = fd & (CHUNK_SIZE - 1);
    Thread self = Thread.currentThread();
    slots.set(slot, self);
    int mask = events | LibC.EPOLLONESHOT;
    int first = added ? LibC.EPOLL_CTL_MOD : LibC.EPOLL_CTL_ADD;
    int rc = LibC.epoll_ctl(epfd, first, fd, mask);
    if (rc == -Errno.ENOENT || rc == -Errno.EEXIST) {
      // The other operation: the caller's knowledge was stale (a descriptor adopted from
      // elsewhere, or one this poller still holds under the same open file).
      rc =
          LibC.epoll_ctl(
              epfd,
              first == LibC.EPOLL_CTL_ADD ? LibC.EPOLL_CTL_MOD : LibC.EPOLL_CTL_ADD,
              fd,
              mask);
    }
    if (rc < 0) {
      slots.compareAndSet(slot, self, null);
    }
    return rc;
  }

  /** Forgets the current thread as the waiter on {@code fd}, if it still is. */
  public void disarm(int fd) {
    AtomicReferenceArray<Thread> slots = chunk(fd, false);
    if (slots != null) {
      slots.compareAndSet(fd & (CHUNK_SIZE - 1), Thread.currentThread(), null);
    }
  }

  /** Unparks whoever waits on {@code fd}. */
  private void wakeup(int fd) {
    AtomicReferenceArray<Thread> slots = chunk(fd, false);
    if (slots != null) {
      Thread waiter = slots.getAndSet(fd & (CHUNK_SIZE - 1), null);
      if (waiter != null) {
        LockSupport.unpark(waiter);
      }
    }
  }

  private void run() {
    Arena arena = Arena.ofAuto();
    MemorySegment events = arena.allocate((long) LibC.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
    MemorySegment state = LibC.allocateCaptureState(arena);
    while (true) {
      int n = LibC.epoll_wait(epfd, events, MAX_EVENTS, -1, state);
      if (n < 0) {
        if (n == -Errno.EINTR) {
          continue;
        }
        // Nothing sensible remains to be done: waiters would sleep forever. Say why, loudly.
        System.getLogger("dev.peercred")
            .log(System.Logger.Level.ERROR, Errno.message("epoll_wait", -n, "poller stopped"));
        return;
      }
      for (int i = 0; i < n; i++) {
        wakeup(LibC.epollEventFd(events, i));
      }
    }
  }
}
