package dev.peercred.internal.linux;

import dev.peercred.Relay;
import dev.peercred.Relay.Side;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The event loops behind {@link Relay}: each loop is one platform thread in {@code epoll_wait} on
 * an epoll set of its own, and moves the bytes of many relays itself, so a byte crosses with one
 * {@code recv} and one {@code send} and no thread hand-off.
 *
 * <p>Both descriptors of a relay are registered once, edge-triggered, for reading; write space is
 * added to a registration only while bytes wait for that descriptor. A loop reads a side while it
 * is readable and the other side keeps up (at most {@link #MAX_QUEUED} bytes wait for a slow
 * writer), into one buffer per loop; bytes that cannot be written at once are copied into a queue
 * of the relay's. An idle relay therefore holds no buffer at all.
 *
 * <p>The relay holds a use of both descriptors ({@link NativeSocket#acquire()}) from start to end,
 * so a concurrent {@code close()} marks the socket closed and tells the loop (through the socket's
 * close listener), and the descriptor is closed when the loop lets go of it, never under a call.
 */
public final class RelayEngine {
  private RelayEngine() {}

  /** Bytes that may wait for a slow writer before its sender is held back. */
  static final int MAX_QUEUED = 256 * 1024;

  /** The most bytes an inspector may leave unconsumed; beyond that the relay fails. */
  static final int MAX_UNCONSUMED = 256 * 1024;

  private static final int READ_BUFFER = 64 * 1024;

  /**
   * What a descriptor is registered for while its writer keeps up: readability only. Write space is
   * asked for ({@link #WRITE_EVENTS}) only while bytes wait for it, since a Unix socket raises a
   * write-space edge every time its peer reads: registered for it all along, a loop would be woken
   * for nothing after every message its peers take in (twice per request through a proxy).
   */
  private static final int READ_EVENTS = LibC.EPOLLIN | LibC.EPOLLRDHUP | LibC.EPOLLET;

  /** {@link #READ_EVENTS} and write space: while bytes wait for the descriptor to take them. */
  private static final int WRITE_EVENTS = READ_EVENTS | LibC.EPOLLOUT;

  private static final int MAX_EVENTS = 256;

  /**
   * How often a loop that holds relays reads again every side it takes as drained, in milliseconds:
   * a read shorter than the buffer is taken as "nothing more is queued" (the next arrival raises an
   * edge), which saves the read that would only say EAGAIN; but a Unix socket read also stops early
   * at a message carrying descriptors or credentials, or at out-of-band data, with more bytes
   * queued behind it, and no edge comes for those. The sweep bounds how long such bytes can wait.
   */
  static final int SWEEP_MILLIS = 1000;

  /**
   * Relay loops: the system property {@code dev.peercred.relayThreads}, else one per CPU (as
   * HAProxy's threads): a loop is one thread in {@code epoll_wait} when idle, and a proxy that
   * forwards many connections is limited by how many loops share the work.
   */
  private static final int LOOPS =
      Math.max(
          1,
          Integer.getInteger(
              "dev.peercred.relayThreads", Runtime.getRuntime().availableProcessors()));

  private static final Loop[] loops = new Loop[LOOPS];
  private static final AtomicInteger next = new AtomicInteger();

  private static Loop loop() {
    int i = Math.floorMod(next.getAndIncrement(), LOOPS);
    synchronized (loops) {
      if (loops[i] == null) {
        loops[i] = new Loop("peercred-relay-" + i);
      }
      return loops[i];
    }
  }

  /**
   * Relays between two sockets until it ends; see {@link Relay#between}.
   *
   * @param client the client side
   * @param server the server side
   * @param inspector decides what crosses; null passes everything
   * @return what was carried
   */
  public static Relay.Result run(
      NativeSocket client, NativeSocket server, Relay.Inspector inspector) {
    Pair pair = new Pair(client, server, inspector, Thread.currentThread());
    try {
      pair.acquire();
    } catch (IOException e) {
      return new Relay.Result(0, 0, Optional.of(e), false);
    }
    Loop loop = loop();
    pair.loop = loop;
    client.closeListener(pair::closedElsewhere);
    server.closeListener(pair::closedElsewhere);
    if (client.isClosed() || server.isClosed()) {
      pair.closedElsewhere(); // a close between acquire and listening
    }
    loop.submit(pair);
    boolean interrupted = false;
    while (!pair.finished) {
      LockSupport.park(pair);
      if (Thread.interrupted() && !interrupted) {
        interrupted = true;
        pair.interrupted = true;
        client.close();
        server.close();
      }
    }
    client.closeListener(null);
    server.closeListener(null);
    pair.releaseUses();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return pair.result();
  }

  /** One event loop thread and its epoll set. */
  private static final class Loop {
    private final int epfd;
    private final int wakeRead;
    private final int wakeWrite;
    private final ConcurrentLinkedQueue<Pair> commands = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wakePending = new AtomicInteger();

    /** The direction reading from each descriptor, by descriptor number; loop thread only. */
    private Direction[] byFd = new Direction[1024];

    /** Relays registered with this loop; loop thread only. */
    private int relays;

    private final byte[] buffer = new byte[READ_BUFFER];
    private final MemorySegment bufferSegment = MemorySegment.ofArray(buffer);

    Loop(String name) {
      int fd = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
      if (fd < 0) {
        throw new IllegalStateException(Errno.message("epoll_create1", -fd, name));
      }
      int[] wake = new int[2];
      int rc =
          LibC.socketpair(
              LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0, wake);
      if (rc < 0) {
        LibC.close(fd);
        throw new IllegalStateException(Errno.message("socketpair", -rc, name));
      }
      rc = LibC.epoll_ctl(fd, LibC.EPOLL_CTL_ADD, wake[0], LibC.EPOLLIN);
      if (rc < 0) {
        LibC.close(fd);
        LibC.close(wake[0]);
        LibC.close(wake[1]);
        throw new IllegalStateException(Errno.message("epoll_ctl", -rc, name));
      }
      this.epfd = fd;
      this.wakeRead = wake[0];
      this.wakeWrite = wake[1];
      Thread.ofPlatform().name(name).daemon().start(this::run);
    }

    /** Hands {@code pair} to this loop: to start it, or to look at it again (it was closed). */
    void submit(Pair pair) {
      commands.add(pair);
      if (wakePending.getAndSet(1) == 0) {
        LibC.send(wakeWrite, MemorySegment.ofArray(new byte[1]), 1, LibC.MSG_NOSIGNAL);
      }
    }

    private void run() {
      Arena arena = Arena.ofAuto();
      MemorySegment events = arena.allocate((long) LibC.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
      MemorySegment state = LibC.allocateCaptureState(arena);
      byte[] drain = new byte[64];
      MemorySegment drainSegment = MemorySegment.ofArray(drain);
      long lastSweep = System.nanoTime();
      while (true) {
        int n = LibC.epoll_wait(epfd, events, MAX_EVENTS, relays > 0 ? SWEEP_MILLIS : -1, state);
        if (relays > 0 && System.nanoTime() - lastSweep >= SWEEP_MILLIS * 1_000_000L) {
          sweep();
          lastSweep = System.nanoTime();
        }
        if (n < 0) {
          if (n == -Errno.EINTR) {
            continue;
          }
          System.getLogger("dev.peercred")
              .log(
                  System.Logger.Level.ERROR, Errno.message("epoll_wait", -n, "relay loop stopped"));
          return;
        }
        for (int i = 0; i < n; i++) {
          int fd = LibC.epollEventFd(events, i);
          int mask = LibC.epollEventMask(events, i);
          if (fd == wakeRead) {
            // Drain first, then clear: a byte sent by a submit that saw the flag clear always
            // stays for the next wait. (Cleared first, such a byte could be drained here, leaving
            // the flag set with no byte behind it: every later submit would skip the wake-up, and
            // an idle loop would never wake again.) The commands below are read after the clear.
            while (LibC.recv(wakeRead, drainSegment, drain.length, 0) > 0) {
              // drained
            }
            wakePending.set(0);
            continue;
          }
          Direction reading = fd < byFd.length ? byFd[fd] : null;
          if (reading == null || reading.pair.finished) {
            continue; // a late event for a relay that has ended
          }
          if ((mask & (LibC.EPOLLIN | LibC.EPOLLRDHUP | LibC.EPOLLHUP | LibC.EPOLLERR)) != 0) {
            reading.readable = true;
          }
          if ((mask & (LibC.EPOLLRDHUP | LibC.EPOLLHUP | LibC.EPOLLERR)) != 0) {
            reading.hangup = true; // read on to the end: no edge follows the last short read
          }
          if ((mask & (LibC.EPOLLOUT | LibC.EPOLLHUP | LibC.EPOLLERR)) != 0) {
            reading.other.writable = true; // the direction writing to fd
          }
          reading.pair.run();
        }
        Pair pair;
        while ((pair = commands.poll()) != null) {
          if (!pair.registered) {
            register(pair);
          }
          pair.run();
        }
      }
    }

    /** Reads again every side taken as drained; see {@link #SWEEP_MILLIS}. */
    private void sweep() {
      for (Direction d : byFd) {
        if (d != null && !d.readable && !d.pair.finished) {
          d.readable = true;
          d.pair.run();
        }
      }
    }

    private void register(Pair pair) {
      pair.registered = true;
      relays++;
      for (Direction d : pair.directions) {
        int fd = d.fromFd;
        if (fd >= byFd.length) {
          byFd = Arrays.copyOf(byFd, Math.max(fd + 1, byFd.length * 2));
        }
        byFd[fd] = d;
        int rc = LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_ADD, fd, READ_EVENTS);
        if (rc < 0) {
          pair.fail(Errno.socketException("epoll_ctl", -rc, "fd=" + fd));
          pair.end(false);
          return;
        }
      }
    }

    void deregister(Pair pair) {
      relays--;
      for (Direction d : pair.directions) {
        if (d.fromFd < byFd.length && byFd[d.fromFd] == d) {
          byFd[d.fromFd] = null;
          LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_DEL, d.fromFd, 0);
        }
      }
    }
  }

  /** Two sockets being relayed, and the two directions between them. */
  private static final class Pair {
    final NativeSocket[] sockets;
    final Direction[] directions = new Direction[2];
    final Thread waiter;
    Relay.Inspector inspector;
    Loop loop;
    boolean registered;
    volatile boolean finished;
    volatile boolean closed;
    volatile boolean interrupted;
    boolean acquired;
    boolean finishing;
    boolean stopped;
    IOException failure;

    Pair(NativeSocket client, NativeSocket server, Relay.Inspector inspector, Thread waiter) {
      this.sockets = new NativeSocket[] {client, server};
      this.inspector = inspector;
      this.waiter = waiter;
      directions[0] = new Direction(this, Side.CLIENT, client.fd(), server.fd());
      directions[1] = new Direction(this, Side.SERVER, server.fd(), client.fd());
      directions[0].other = directions[1];
      directions[1].other = directions[0];
    }

    void acquire() throws IOException {
      sockets[0].acquire();
      try {
        sockets[1].acquire();
      } catch (IOException e) {
        sockets[0].release();
        throw e;
      }
      acquired = true;
    }

    void releaseUses() {
      if (acquired) {
        acquired = false;
        sockets[0].release();
        sockets[1].release();
      }
    }

    /** A close from another thread: the loop ends the relay at once. */
    void closedElsewhere() {
      closed = true;
      Loop l = loop;
      if (l != null) {
        l.submit(this);
      }
    }

    void fail(IOException e) {
      if (failure == null) {
        failure = e;
      }
    }

    /** Moves bytes until nothing more can be done now; runs on the loop thread. */
    void run() {
      if (finished) {
        return;
      }
      if (closed) {
        fail(interrupted ? new ClosedByInterruptException() : new AsynchronousCloseException());
        end(false);
        return;
      }
      try {
        boolean progress;
        do {
          progress = directions[0].step() | directions[1].step();
        } while (progress && !finished);
      } catch (RuntimeException | Error e) {
        fail(new IOException("relay inspector failed: " + e, e));
        end(false);
        return;
      }
      if (!finished && directions[0].done && directions[1].done) {
        end(false);
      } else if (!finished && finishing && directions[0].flushed() && directions[1].flushed()) {
        directions[0].shutdownTarget();
        directions[1].shutdownTarget();
        end(false);
      }
    }

    void end(boolean byStop) {
      if (finished) {
        return;
      }
      stopped |= byStop;
      if (registered) {
        loop.deregister(this);
      }
      finished = true;
      LockSupport.unpark(waiter);
    }

    Relay.Result result() {
      return new Relay.Result(
          directions[0].carried, directions[1].carried, Optional.ofNullable(failure), stopped);
    }
  }

  /** Bytes from one side to the other. */
  private static final class Direction implements Relay.Control {
    final Pair pair;
    final Side from;
    final int fromFd;
    final int toFd;
    Direction other;

    /**
     * Edge-triggered readiness of {@link #fromFd} for reading, until a read says EAGAIN or returns
     * less than asked (see {@link #SWEEP_MILLIS}).
     */
    boolean readable = true;

    /** The source reported its end (or an error): read until EOF, short reads or not. */
    boolean hangup;

    /** Whether {@link #toFd} takes bytes, until a write says EAGAIN. */
    boolean writable = true;

    /** Whether {@link #toFd}'s registration asks for write space ({@link #WRITE_EVENTS}). */
    boolean waitsForSpace;

    boolean eof;
    boolean endedTold;
    boolean held;

    /** This direction has ended: its end was passed on, or its target stopped taking bytes. */
    boolean done;

    long carried;
    final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
    int queued;

    /** Bytes read but not consumed by the inspector. */
    byte[] unconsumed;

    int unconsumedLength;
    boolean reoffer;

    // the inspector call in progress: the bytes it sees, and how many it consumed
    byte[] offerArray;
    int offerOffset;
    int offerLength;
    int cursor;

    /** Bytes of the current call passed but not yet written: from {@link #pendingFrom}. */
    int pendingFrom;

    int pendingLength;

    Direction(Pair pair, Side from, int fromFd, int toFd) {
      this.pair = pair;
      this.from = from;
      this.fromFd = fromFd;
      this.toFd = toFd;
    }

    /** True once nothing waits to be written to the target. */
    boolean flushed() {
      return queue.isEmpty() || done;
    }

    /** Does what can be done now; true if anything moved. */
    boolean step() {
      if (done) {
        return false;
      }
      boolean progress = flush();
      if (done || pair.finished) {
        return progress;
      }
      Relay.Inspector inspector = pair.inspector;
      if (reoffer && !held) {
        reoffer = false;
        if (unconsumedLength > 0) {
          if (inspector == null) {
            passUnconsumed();
          } else {
            offer(inspector, unconsumed, 0, unconsumedLength, true);
          }
          progress = true;
          if (done || pair.finished) {
            return true;
          }
        }
      }
      if (readable && !eof && !held && !pair.finishing && queued < MAX_QUEUED) {
        progress |= read(inspector);
      }
      if (eof && !held && !reoffer && !endedTold) {
        endedTold = true;
        if (inspector != null) {
          inspector.ended(from, this);
        }
        if (pair.inspector == null && unconsumedLength > 0) {
          passUnconsumed(); // passThrough() at the end: what waited crosses
        }
        unconsumedLength = 0; // what the inspector left at the end is dropped
        progress = true;
      }
      if (endedTold && queue.isEmpty() && !done && !pair.finishing) {
        shutdownTarget();
        done = true;
        progress = true;
      }
      return progress;
    }

    private boolean read(Relay.Inspector inspector) {
      Loop loop = pair.loop;
      long n = LibC.recv(fromFd, loop.bufferSegment, loop.buffer.length, 0);
      if (n == -Errno.EAGAIN) {
        readable = false;
        return false;
      }
      if (n == -Errno.EINTR) {
        return true;
      }
      if (n < 0) {
        // The side is broken: deliver what was read from it, and nothing more can go to it.
        pair.fail(Errno.socketException("recv", (int) -n, "fd=" + fromFd));
        eof = true;
        other.stopTowardsBroken();
        return true;
      }
      if (n == 0) {
        eof = true;
        return true;
      }
      int length = (int) n;
      if (length < loop.buffer.length && !hangup) {
        readable = false; // drained: the next arrival raises an edge
      }
      if (inspector == null && unconsumedLength == 0) {
        passFrom(loop.buffer, 0, length);
        carried += length;
        return true;
      }
      if (unconsumedLength > 0) {
        append(loop.buffer, 0, length);
        if (inspector == null) {
          passUnconsumed();
        } else {
          offer(inspector, unconsumed, 0, unconsumedLength, true);
        }
      } else {
        offer(inspector, loop.buffer, 0, length, false);
      }
      return true;
    }

    /** The other direction's target is broken: this direction ends, dropping what waits. */
    private void stopTowardsBroken() {
      queue.clear();
      queued = 0;
      unconsumedLength = 0;
      eof = true;
      endedTold = true;
      done = true;
      shutdown(fromFd, LibC.SHUT_RD);
    }

    /**
     * Offers {@code length} bytes of {@code array} from {@code offset} to the inspector, and keeps
     * what it leaves unconsumed. {@code fromUnconsumed}: the bytes are {@link #unconsumed} itself.
     */
    private void offer(
        Relay.Inspector inspector, byte[] array, int offset, int length, boolean fromUnconsumed) {
      offerArray = array;
      offerOffset = offset;
      offerLength = length;
      cursor = 0;
      int consumed;
      try {
        inspector.inspect(
            from, ByteBuffer.wrap(array, offset, length).slice().asReadOnlyBuffer(), this);
      } finally {
        writePending();
        consumed = cursor;
        offerArray = null;
        cursor = 0;
      }
      if (pair.finished) {
        return;
      }
      if (pair.inspector == null && consumed < length) {
        // passThrough() during the call: the rest crosses unchanged
        passFrom(array, offset + consumed, length - consumed);
        carried += length - consumed;
        consumed = length;
      }
      if (fromUnconsumed) {
        System.arraycopy(unconsumed, consumed, unconsumed, 0, unconsumedLength - consumed);
        unconsumedLength -= consumed;
      } else if (consumed < length) {
        append(array, offset + consumed, length - consumed);
      }
      if (unconsumedLength > MAX_UNCONSUMED) {
        pair.fail(
            new SocketException("relay inspector left more than " + MAX_UNCONSUMED + " bytes"));
        pair.end(false);
      }
    }

    private void append(byte[] bytes, int offset, int length) {
      if (unconsumed == null) {
        unconsumed = new byte[Math.max(4096, length)];
      } else if (unconsumed.length - unconsumedLength < length) {
        unconsumed =
            Arrays.copyOf(unconsumed, Math.max(unconsumed.length * 2, unconsumedLength + length));
      }
      System.arraycopy(bytes, offset, unconsumed, unconsumedLength, length);
      unconsumedLength += length;
    }

    private void passUnconsumed() {
      passFrom(unconsumed, 0, unconsumedLength);
      carried += unconsumedLength;
      unconsumedLength = 0;
    }

    /** Writes {@code bytes} to the target now if it takes them, queuing what it does not. */
    private void passFrom(byte[] bytes, int offset, int length) {
      if (done || length == 0) {
        return;
      }
      if (queue.isEmpty() && writable) {
        long n =
            LibC.send(
                toFd,
                MemorySegment.ofArray(bytes).asSlice(offset, length),
                length,
                LibC.MSG_NOSIGNAL);
        if (n == length) {
          return;
        }
        if (n >= 0) {
          offset += (int) n;
          length -= (int) n;
          blocked();
        } else if (n == -Errno.EAGAIN) {
          blocked();
        } else if (n != -Errno.EINTR) {
          targetGone(n);
          return;
        }
      }
      queue.add(ByteBuffer.wrap(Arrays.copyOfRange(bytes, offset, offset + length)));
      queued += length;
    }

    /**
     * The target took less than offered: ask for its next write-space edge. Space that came since
     * the send is reported at once by the re-registration, so no edge is lost.
     */
    private void blocked() {
      writable = false;
      if (!waitsForSpace) {
        waitsForSpace = true;
        watchTarget(WRITE_EVENTS);
      }
    }

    /** Everything queued is written: write space is no longer of interest. */
    private void caughtUp() {
      if (waitsForSpace) {
        waitsForSpace = false;
        watchTarget(READ_EVENTS);
      }
    }

    /**
     * Sets what {@link #toFd}'s registration asks for: {@link #READ_EVENTS} or {@link
     * #WRITE_EVENTS}.
     */
    private void watchTarget(int events) {
      int rc = LibC.epoll_ctl(pair.loop.epfd, LibC.EPOLL_CTL_MOD, toFd, events);
      if (rc < 0 && !pair.finished) {
        pair.fail(Errno.socketException("epoll_ctl", -rc, "fd=" + toFd));
        pair.end(false);
      }
    }

    /** Writes what is queued while the target takes it; true if anything was written. */
    private boolean flush() {
      boolean progress = false;
      while (writable && !queue.isEmpty()) {
        ByteBuffer head = queue.peek();
        long n =
            LibC.send(
                toFd,
                MemorySegment.ofArray(head.array()).asSlice(head.position(), head.remaining()),
                head.remaining(),
                LibC.MSG_NOSIGNAL);
        if (n >= 0) {
          progress = true;
          head.position(head.position() + (int) n);
          queued -= (int) n;
          if (!head.hasRemaining()) {
            queue.poll();
          } else {
            blocked();
          }
        } else if (n == -Errno.EAGAIN) {
          blocked();
        } else if (n != -Errno.EINTR) {
          targetGone(n);
          return true;
        }
      }
      if (queue.isEmpty() && writable) {
        caughtUp();
      }
      return progress;
    }

    /**
     * The target stopped taking bytes: this direction ends, its sender is told (its further writes
     * fail), and the other direction goes on delivering what the target sent.
     */
    private void targetGone(long rc) {
      pair.fail(Errno.socketException("send", (int) -rc, "fd=" + toFd));
      queue.clear();
      queued = 0;
      unconsumedLength = 0;
      done = true;
      shutdown(fromFd, LibC.SHUT_RD);
    }

    void shutdownTarget() {
      shutdown(toFd, LibC.SHUT_WR);
    }

    private static void shutdown(int fd, int how) {
      LibC.shutdown(fd, how); // ENOTCONN: the peer is gone already, nothing to tell
    }

    // ---------------------------------------------------------------- Relay.Control

    private void checkCount(int count) {
      if (offerArray == null) {
        throw new IllegalStateException("pass and drop are for the bytes of the current call");
      }
      if (count < 0 || count > offerLength - cursor) {
        throw new IllegalArgumentException(
            "count " + count + " outside 0.." + (offerLength - cursor));
      }
    }

    @Override
    public void pass(int count) {
      checkCount(count);
      // Consecutive passes in one call go out in one send: a response head and its body, say.
      if (pendingLength > 0 && pendingFrom + pendingLength != offerOffset + cursor) {
        writePending();
      }
      if (pendingLength == 0) {
        pendingFrom = offerOffset + cursor;
      }
      pendingLength += count;
      carried += count;
      cursor += count;
    }

    /** Writes the bytes passed in the current call so far. */
    private void writePending() {
      if (pendingLength > 0) {
        int length = pendingLength;
        pendingLength = 0;
        passFrom(offerArray, pendingFrom, length);
      }
    }

    @Override
    public void drop(int count) {
      checkCount(count);
      cursor += count;
    }

    @Override
    public void send(Side to, ByteBuffer bytes) {
      Direction towards = to == from ? other : this;
      if (towards == this) {
        writePending(); // what was passed before goes first
      }
      byte[] copy = new byte[bytes.remaining()];
      bytes.duplicate().get(copy);
      towards.passFrom(copy, 0, copy.length);
    }

    @Override
    public void hold(Side side) {
      direction(side).held = true;
    }

    @Override
    public void resume(Side side) {
      Direction d = direction(side);
      if (d.held) {
        d.held = false;
        d.reoffer = true;
      }
    }

    private Direction direction(Side side) {
      return side == from ? this : other;
    }

    @Override
    public void passThrough() {
      pair.inspector = null;
      for (Direction d : pair.directions) {
        d.held = false;
        d.reoffer = true;
      }
    }

    @Override
    public void finish() {
      pair.finishing = true;
    }

    @Override
    public void stop() {
      writePending(); // what was passed before the stop is delivered, as it was passed
      pair.end(true);
    }
  }
}
