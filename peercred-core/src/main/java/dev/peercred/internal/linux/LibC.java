package dev.peercred.internal.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;

/**
 * The C library functions peercred calls, one handle and one wrapper each, named as in C.
 *
 * <p>Every wrapper that can fail returns the C result when it is not negative and {@code -errno}
 * when it is: errno is captured in the same downcall ({@link Linker.Option#captureCallState}),
 * because a virtual thread may move to another carrier between two calls. Wrappers never throw
 * checked exceptions; {@link Errno} turns a negative result into the JDK's exception types.
 *
 * <p>Calls that never block (everything on a non-blocking descriptor) are linked {@linkplain
 * Linker.Option#critical(boolean) critical with heap access}: they take Java arrays directly, with
 * no copy and no native allocation, and keep errno in a heap array. Calls that may block or touch
 * the file system ({@code bind}, {@code connect}, {@code close}, {@code epoll_wait}) are linked
 * normally.
 */
public final class LibC {
  private LibC() {}

  // <bits/socket.h>, <linux/socket.h>, include/uapi/asm-generic/socket.h (same on x86_64 and
  // aarch64)
  public static final int AF_UNIX = 1;
  public static final int SOCK_STREAM = 1;
  public static final int SOCK_DGRAM = 2;
  public static final int SOCK_NONBLOCK = 0x800; // O_NONBLOCK, 04000 on x86_64 and aarch64
  public static final int SOCK_CLOEXEC = 0x80000; // O_CLOEXEC, 02000000
  public static final int SOL_SOCKET = 1;
  public static final int SO_TYPE = 3;
  public static final int SO_SNDBUF = 7;
  public static final int SO_RCVBUF = 8;
  public static final int SO_PEERCRED = 17;
  public static final int SO_ACCEPTCONN = 30;
  public static final int SO_PEERSEC = 31;
  public static final int SO_DOMAIN = 39;
  public static final int SO_PEERGROUPS = 59;
  public static final int SO_PEERPIDFD = 77;
  public static final int MSG_DONTWAIT = 0x40;
  public static final int MSG_NOSIGNAL = 0x4000;
  public static final int SHUT_RD = 0;
  public static final int SHUT_WR = 1;
  public static final int SHUT_RDWR = 2;

  // include/uapi/linux/eventpoll.h
  public static final int EPOLL_CLOEXEC = 0x80000;
  public static final int EPOLL_CTL_ADD = 1;
  public static final int EPOLL_CTL_DEL = 2;
  public static final int EPOLL_CTL_MOD = 3;
  public static final int EPOLLIN = 0x001;
  public static final int EPOLLOUT = 0x004;
  public static final int EPOLLERR = 0x008;
  public static final int EPOLLHUP = 0x010;
  public static final int EPOLLRDHUP = 0x2000;
  public static final int EPOLLONESHOT = 1 << 30;
  public static final int EPOLLET = 1 << 31;

  /** {@code struct ucred { pid_t pid; uid_t uid; gid_t gid; }}, include/linux/socket.h. */
  public static final int UCRED_SIZE = 12;

  /**
   * {@code struct epoll_event}: packed to 12 bytes on x86_64, naturally aligned to 16 bytes on
   * aarch64 (include/uapi/linux/eventpoll.h, {@code EPOLL_PACKED}).
   */
  public static final int EPOLL_EVENT_SIZE = Platform.X86_64 ? 12 : 16;

  public static final int EPOLL_EVENT_DATA_OFFSET = Platform.X86_64 ? 4 : 8;

  private static final ValueLayout.OfInt JAVA_INT_UNALIGNED = JAVA_INT.withByteAlignment(1);
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
  static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final long ERRNO_OFFSET =
      CAPTURE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));

  static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
  static final Linker.Option HEAP = Linker.Option.critical(true);

  /**
   * Links a C library function; sibling classes in this package use it for their own bindings. Pass
   * {@link #ERRNO} to capture errno and {@link #HEAP} for calls that never block.
   */
  static MethodHandle link(String name, FunctionDescriptor descriptor, Linker.Option... options) {
    return LINKER.downcallHandle(
        LOOKUP
            .find(name)
            .orElseThrow(
                () ->
                    new UnsupportedOperationException(
                        "the C library has no symbol '" + name + "'")),
        descriptor,
        options);
  }

  static FunctionDescriptor ints(int arguments) {
    var args = new MemoryLayout[arguments];
    Arrays.fill(args, JAVA_INT);
    return FunctionDescriptor.of(JAVA_INT, args);
  }

  private static final MethodHandle SOCKET = link("socket", ints(3), ERRNO, HEAP);
  private static final MethodHandle SOCKETPAIR =
      link(
          "socketpair",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
          ERRNO,
          HEAP);
  private static final MethodHandle BIND =
      link("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
  private static final MethodHandle CONNECT =
      link("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
  private static final MethodHandle LISTEN = link("listen", ints(2), ERRNO, HEAP);
  private static final MethodHandle ACCEPT4 =
      link(
          "accept4",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
          ERRNO,
          HEAP);
  private static final MethodHandle GETSOCKOPT =
      link(
          "getsockopt",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
          ERRNO,
          HEAP);
  private static final MethodHandle SETSOCKOPT =
      link(
          "setsockopt",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
          ERRNO,
          HEAP);
  private static final MethodHandle GETSOCKNAME =
      link("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), ERRNO, HEAP);
  private static final MethodHandle GETPEERNAME =
      link("getpeername", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS), ERRNO, HEAP);
  private static final MethodHandle RECV =
      link(
          "recv",
          FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
          ERRNO,
          HEAP);
  private static final MethodHandle SEND =
      link(
          "send",
          FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
          ERRNO,
          HEAP);
  private static final MethodHandle SHUTDOWN = link("shutdown", ints(2), ERRNO, HEAP);
  private static final MethodHandle CLOSE = link("close", ints(1), ERRNO);
  private static final MethodHandle FCNTL = link("fcntl", ints(3), ERRNO, HEAP);
  private static final MethodHandle EPOLL_CREATE1 = link("epoll_create1", ints(1), ERRNO, HEAP);
  private static final MethodHandle EPOLL_CTL =
      link(
          "epoll_ctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
          ERRNO,
          HEAP);
  private static final MethodHandle EPOLL_WAIT =
      link(
          "epoll_wait",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
          ERRNO);
  private static final MethodHandle GETEUID = link("geteuid", FunctionDescriptor.of(JAVA_INT));
  private static final MethodHandle GETEGID = link("getegid", FunctionDescriptor.of(JAVA_INT));

  /** A fresh errno slot for one critical call. */
  static MemorySegment errnoSlot(int[] holder) {
    return MemorySegment.ofArray(holder);
  }

  static int result(int rc, int[] errno) {
    return rc == -1 ? -errno[0] : rc;
  }

  static long result(long rc, int[] errno) {
    return rc == -1 ? -errno[0] : rc;
  }

  static int result(int rc, MemorySegment state) {
    return rc == -1 ? -state.get(JAVA_INT, ERRNO_OFFSET) : rc;
  }

  public static int socket(int domain, int type, int protocol) {
    int[] e = new int[1];
    try {
      return result((int) SOCKET.invokeExact(errnoSlot(e), domain, type, protocol), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code socketpair(2)}; the two descriptors are stored into {@code fds}. */
  public static int socketpair(int domain, int type, int protocol, int[] fds) {
    int[] e = new int[1];
    try {
      return result(
          (int)
              SOCKETPAIR.invokeExact(
                  errnoSlot(e), domain, type, protocol, MemorySegment.ofArray(fds)),
          e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int bind(int fd, byte[] sockaddr, int length) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CAPTURE);
      MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
      return result((int) BIND.invokeExact(state, fd, addr, length), state);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int connect(int fd, byte[] sockaddr, int length) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CAPTURE);
      MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
      return result((int) CONNECT.invokeExact(state, fd, addr, length), state);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int listen(int fd, int backlog) {
    int[] e = new int[1];
    try {
      return result((int) LISTEN.invokeExact(errnoSlot(e), fd, backlog), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * {@code accept4(2)}; the peer's address goes into {@code sockaddr} and its length into {@code
   * length[0]} (which must hold the buffer size on entry).
   */
  public static int accept4(int fd, byte[] sockaddr, int[] length, int flags) {
    int[] e = new int[1];
    try {
      return result(
          (int)
              ACCEPT4.invokeExact(
                  errnoSlot(e),
                  fd,
                  MemorySegment.ofArray(sockaddr),
                  MemorySegment.ofArray(length),
                  flags),
          e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code getsockopt(2)} into an int array; {@code length[0]} is the buffer size in bytes. */
  public static int getsockopt(int fd, int level, int name, int[] value, int[] length) {
    int[] e = new int[1];
    try {
      return result(
          (int)
              GETSOCKOPT.invokeExact(
                  errnoSlot(e),
                  fd,
                  level,
                  name,
                  MemorySegment.ofArray(value),
                  MemorySegment.ofArray(length)),
          e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code getsockopt(2)} into a byte array; {@code length[0]} is the buffer size in bytes. */
  public static int getsockopt(int fd, int level, int name, byte[] value, int[] length) {
    int[] e = new int[1];
    try {
      return result(
          (int)
              GETSOCKOPT.invokeExact(
                  errnoSlot(e),
                  fd,
                  level,
                  name,
                  MemorySegment.ofArray(value),
                  MemorySegment.ofArray(length)),
          e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int setsockopt(int fd, int level, int name, int value) {
    int[] e = new int[1];
    try {
      return result(
          (int)
              SETSOCKOPT.invokeExact(
                  errnoSlot(e), fd, level, name, MemorySegment.ofArray(new int[] {value}), 4),
          e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int getsockname(int fd, byte[] sockaddr, int[] length) {
    int[] e = new int[1];
    try {
      return result(
          (int)
              GETSOCKNAME.invokeExact(
                  errnoSlot(e), fd, MemorySegment.ofArray(sockaddr), MemorySegment.ofArray(length)),
          e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int getpeername(int fd, byte[] sockaddr, int[] length) {
    int[] e = new int[1];
    try {
      return result(
          (int)
              GETPEERNAME.invokeExact(
                  errnoSlot(e), fd, MemorySegment.ofArray(sockaddr), MemorySegment.ofArray(length)),
          e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code recv(2)} into any segment (heap or native); returns bytes read or {@code -errno}. */
  public static long recv(int fd, MemorySegment buffer, long length, int flags) {
    int[] e = new int[1];
    try {
      return result((long) RECV.invokeExact(errnoSlot(e), fd, buffer, length, flags), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code send(2)} from any segment (heap or native); returns bytes written or {@code -errno}. */
  public static long send(int fd, MemorySegment buffer, long length, int flags) {
    int[] e = new int[1];
    try {
      return result((long) SEND.invokeExact(errnoSlot(e), fd, buffer, length, flags), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int shutdown(int fd, int how) {
    int[] e = new int[1];
    try {
      return result((int) SHUTDOWN.invokeExact(errnoSlot(e), fd, how), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int close(int fd) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CAPTURE);
      return result((int) CLOSE.invokeExact(state, fd), state);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static int fcntl(int fd, int command, int argument) {
    int[] e = new int[1];
    try {
      return result((int) FCNTL.invokeExact(errnoSlot(e), fd, command, argument), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static final int F_GETFD = 1;
  public static final int F_SETFD = 2;
  public static final int F_GETFL = 3;
  public static final int F_SETFL = 4;
  public static final int FD_CLOEXEC = 1;
  public static final int O_NONBLOCK = 0x800;

  public static int epoll_create1(int flags) {
    int[] e = new int[1];
    try {
      return result((int) EPOLL_CREATE1.invokeExact(errnoSlot(e), flags), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** {@code epoll_ctl(2)} with an event whose data is the descriptor number itself. */
  public static int epoll_ctl(int epfd, int op, int fd, int events) {
    int[] e = new int[1];
    byte[] event = new byte[EPOLL_EVENT_SIZE];
    MemorySegment ev = MemorySegment.ofArray(event);
    ev.set(JAVA_INT_UNALIGNED, 0, events);
    ev.set(JAVA_INT_UNALIGNED, EPOLL_EVENT_DATA_OFFSET, fd);
    try {
      return result((int) EPOLL_CTL.invokeExact(errnoSlot(e), epfd, op, fd, ev), e);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /**
   * {@code epoll_wait(2)} into a native array of {@code maxEvents} events; may block, so call it on
   * a platform thread only. {@code state} is a native segment of {@link #captureStateSize()} bytes.
   */
  public static int epoll_wait(
      int epfd, MemorySegment events, int maxEvents, int timeoutMillis, MemorySegment state) {
    try {
      return result(
          (int) EPOLL_WAIT.invokeExact(state, epfd, events, maxEvents, timeoutMillis), state);
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  /** The descriptor number stored in event {@code index} of an {@code epoll_wait} result. */
  public static int epollEventFd(MemorySegment events, int index) {
    return events.get(
        JAVA_INT_UNALIGNED, (long) index * EPOLL_EVENT_SIZE + EPOLL_EVENT_DATA_OFFSET);
  }

  /** The event mask of event {@code index} of an {@code epoll_wait} result. */
  public static int epollEventMask(MemorySegment events, int index) {
    return events.get(JAVA_INT_UNALIGNED, (long) index * EPOLL_EVENT_SIZE);
  }

  /** Allocates the capture-state segment that {@link #epoll_wait} needs. */
  public static MemorySegment allocateCaptureState(Arena arena) {
    return arena.allocate(CAPTURE);
  }

  public static long geteuid() {
    try {
      return Integer.toUnsignedLong((int) GETEUID.invokeExact());
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }

  public static long getegid() {
    try {
      return Integer.toUnsignedLong((int) GETEGID.invokeExact());
    } catch (Throwable t) {
      throw new AssertionError(t);
    }
  }
}
