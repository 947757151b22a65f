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
 *
 * <p>The handles are linked at the first call, not when this class loads (see {@link
 * NativeAccess}): every wrapper calls {@link NativeAccess#check()} first, so a JVM that denies
 * native access gets a clear exception at every call, and one that grants it later works.
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
  static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final long ERRNO_OFFSET =
      CAPTURE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));

  static final Linker.Option ERRNO = NativeAccess.ERRNO;
  static final Linker.Option HEAP = NativeAccess.HEAP;

  static FunctionDescriptor ints(int arguments) {
    var args = new MemoryLayout[arguments];
    Arrays.fill(args, JAVA_INT);
    return FunctionDescriptor.of(JAVA_INT, args);
  }

  /*
   * The downcall handles, one holder class each, so that a handle is linked when its first
   * wrapper runs (after NativeAccess.check) and a program links only the calls it makes: a JVM
   * spends milliseconds generating each downcall stub at start-up. A static final field of a
   * holder is a constant to the JIT, as a field of one shared holder was.
   */
  private static final class Socket {
    static final MethodHandle HANDLE = NativeAccess.link("socket", ints(3), ERRNO, HEAP);
  }

  private static final class Socketpair {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "socketpair",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
            ERRNO,
            HEAP);
  }

  private static final class Bind {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
  }

  private static final class Connect {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT), ERRNO);
  }

  private static final class Listen {
    static final MethodHandle HANDLE = NativeAccess.link("listen", ints(2), ERRNO, HEAP);
  }

  // Not critical: accept4(2) has no MSG_DONTWAIT, so it blocks if O_NONBLOCK was cleared.
  private static final class Accept4 {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "accept4",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT),
            ERRNO);
  }

  private static final class Getsockopt {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "getsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
            ERRNO,
            HEAP);
  }

  private static final class Setsockopt {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT),
            ERRNO,
            HEAP);
  }

  private static final class Getsockname {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
            ERRNO,
            HEAP);
  }

  private static final class Getpeername {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "getpeername",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS),
            ERRNO,
            HEAP);
  }

  private static final class Recv {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "recv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
            ERRNO,
            HEAP);
  }

  private static final class Send {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "send",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT),
            ERRNO,
            HEAP);
  }

  private static final class Shutdown {
    static final MethodHandle HANDLE = NativeAccess.link("shutdown", ints(2), ERRNO, HEAP);
  }

  private static final class Close {
    static final MethodHandle HANDLE = NativeAccess.link("close", ints(1), ERRNO);
  }

  private static final class Fcntl {
    static final MethodHandle HANDLE = NativeAccess.link("fcntl", ints(3), ERRNO, HEAP);
  }

  private static final class EpollCreate1 {
    static final MethodHandle HANDLE = NativeAccess.link("epoll_create1", ints(1), ERRNO, HEAP);
  }

  private static final class EpollCtl {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
            ERRNO,
            HEAP);
  }

  private static final class EpollWait {
    static final MethodHandle HANDLE =
        NativeAccess.link(
            "epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            ERRNO);
  }

  private static final class Geteuid {
    static final MethodHandle HANDLE =
        NativeAccess.link("geteuid", FunctionDescriptor.of(JAVA_INT));
  }

  private static final class Getegid {
    static final MethodHandle HANDLE =
        NativeAccess.link("getegid", FunctionDescriptor.of(JAVA_INT));
  }

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
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result((int) Socket.HANDLE.invokeExact(errnoSlot(e), domain, type, protocol), e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /** {@code socketpair(2)}; the two descriptors are stored into {@code fds}. */
  public static int socketpair(int domain, int type, int protocol, int[] fds) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result(
          (int)
              Socketpair.HANDLE.invokeExact(
                  errnoSlot(e), domain, type, protocol, MemorySegment.ofArray(fds)),
          e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  public static int bind(int fd, byte[] sockaddr, int length) {
    return withAddress(Bind.HANDLE, fd, sockaddr, length);
  }

  public static int connect(int fd, byte[] sockaddr, int length) {
    return withAddress(Connect.HANDLE, fd, sockaddr, length);
  }

  /**
   * {@code bind(2)} or {@code connect(2)}: linked normally, the address copied to native memory.
   */
  private static int withAddress(MethodHandle call, int fd, byte[] sockaddr, int length) {
    NativeAccess.check();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CAPTURE);
      MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
      return result((int) call.invokeExact(state, fd, addr, length), state);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  public static int listen(int fd, int backlog) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result((int) Listen.HANDLE.invokeExact(errnoSlot(e), fd, backlog), e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /**
   * {@code accept4(2)}; the peer's address goes into {@code sockaddr} and its length into {@code
   * length[0]} (which must hold the buffer size on entry).
   *
   * <p>Linked normally, not critical: {@code accept4} has no flag that keeps it from blocking, and
   * a listening socket shared with another process (an inherited or activated one) blocks if that
   * process clears {@code O_NONBLOCK}. It then waits in the kernel like any ordinary downcall, and
   * the JVM's safepoints, and so its garbage collections, go on meanwhile. The address and errno
   * pass through one small native buffer.
   */
  public static int accept4(int fd, byte[] sockaddr, int[] length, int flags) {
    NativeAccess.check();
    long lengthOffset = CAPTURE.byteSize();
    long addressOffset = lengthOffset + Integer.BYTES;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(addressOffset + sockaddr.length, 8);
      MemorySegment state = buffer.asSlice(0, CAPTURE.byteSize());
      MemorySegment address = buffer.asSlice(addressOffset, sockaddr.length);
      MemorySegment addressLength = buffer.asSlice(lengthOffset, Integer.BYTES);
      addressLength.set(JAVA_INT, 0, length[0]);
      int rc =
          result((int) Accept4.HANDLE.invokeExact(state, fd, address, addressLength, flags), state);
      if (rc >= 0) {
        length[0] = addressLength.get(JAVA_INT, 0);
        MemorySegment.copy(
            address, JAVA_BYTE, 0, sockaddr, 0, Math.clamp(length[0], 0, sockaddr.length));
      }
      return rc;
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /**
   * {@code getsockopt(2)} into a heap segment (of an {@code int[]} or {@code byte[]}); {@code
   * length[0]} is the buffer size in bytes on entry and the option's length on return.
   */
  public static int getsockopt(int fd, int level, int name, MemorySegment value, int[] length) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result(
          (int)
              Getsockopt.HANDLE.invokeExact(
                  errnoSlot(e), fd, level, name, value, MemorySegment.ofArray(length)),
          e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /** {@code getsockopt(2)} into an int array; {@code length[0]} is the buffer size in bytes. */
  public static int getsockopt(int fd, int level, int name, int[] value, int[] length) {
    return getsockopt(fd, level, name, MemorySegment.ofArray(value), length);
  }

  public static int setsockopt(int fd, int level, int name, int value) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result(
          (int)
              Setsockopt.HANDLE.invokeExact(
                  errnoSlot(e), fd, level, name, MemorySegment.ofArray(new int[] {value}), 4),
          e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  public static int getsockname(int fd, byte[] sockaddr, int[] length) {
    return socketName(Getsockname.HANDLE, fd, sockaddr, length);
  }

  public static int getpeername(int fd, byte[] sockaddr, int[] length) {
    return socketName(Getpeername.HANDLE, fd, sockaddr, length);
  }

  /** {@code getsockname(2)} or {@code getpeername(2)}. */
  private static int socketName(MethodHandle call, int fd, byte[] sockaddr, int[] length) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result(
          (int)
              call.invokeExact(
                  errnoSlot(e), fd, MemorySegment.ofArray(sockaddr), MemorySegment.ofArray(length)),
          e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /**
   * {@code recv(2)} into any segment (heap or native), always with {@code MSG_DONTWAIT}; returns
   * bytes read or {@code -errno} ({@code -EAGAIN} when nothing is there).
   *
   * <p>The call is critical, so it must never block: a blocked critical call holds up every
   * safepoint of the JVM. {@code O_NONBLOCK} alone cannot promise that, because a socket shares its
   * file status flags with every process that holds the same open file (an inherited or activated
   * socket), and any of them can clear it; {@code MSG_DONTWAIT} applies to this call only.
   */
  public static long recv(int fd, MemorySegment buffer, long length, int flags) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result(
          (long) Recv.HANDLE.invokeExact(errnoSlot(e), fd, buffer, length, flags | MSG_DONTWAIT),
          e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /**
   * {@code send(2)} from any segment (heap or native), always with {@code MSG_DONTWAIT} (see {@link
   * #recv}); returns bytes written or {@code -errno} ({@code -EAGAIN} when the buffer is full).
   */
  public static long send(int fd, MemorySegment buffer, long length, int flags) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result(
          (long) Send.HANDLE.invokeExact(errnoSlot(e), fd, buffer, length, flags | MSG_DONTWAIT),
          e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  public static int shutdown(int fd, int how) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result((int) Shutdown.HANDLE.invokeExact(errnoSlot(e), fd, how), e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  public static int close(int fd) {
    NativeAccess.check();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(CAPTURE);
      return result((int) Close.HANDLE.invokeExact(state, fd), state);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  // fcntl(2) is critical, and some of its commands block (F_SETLKW, F_OFD_SETLKW): only these
  // four, which never do, can be issued through it.
  private static final int F_GETFD = 1;
  private static final int F_SETFD = 2;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;

  /** {@code FD_CLOEXEC}, the one file descriptor flag. */
  public static final int FD_CLOEXEC = 1;

  /** {@code O_NONBLOCK}, a file status flag: 04000 on x86_64 and aarch64. */
  public static final int O_NONBLOCK = 0x800;

  /**
   * {@code fcntl(fd, F_GETFD)}: the file descriptor flags ({@link #FD_CLOEXEC}), or {@code -errno}.
   */
  public static int getDescriptorFlags(int fd) {
    return fcntl(fd, F_GETFD, 0);
  }

  /** {@code fcntl(fd, F_SETFD, flags)}: 0 or {@code -errno}. */
  public static int setDescriptorFlags(int fd, int flags) {
    return fcntl(fd, F_SETFD, flags);
  }

  /**
   * {@code fcntl(fd, F_GETFL)}: the file status flags ({@link #O_NONBLOCK}, ...), or {@code
   * -errno}.
   */
  public static int getStatusFlags(int fd) {
    return fcntl(fd, F_GETFL, 0);
  }

  /** {@code fcntl(fd, F_SETFL, flags)}: 0 or {@code -errno}. */
  public static int setStatusFlags(int fd, int flags) {
    return fcntl(fd, F_SETFL, flags);
  }

  private static int fcntl(int fd, int command, int argument) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result((int) Fcntl.HANDLE.invokeExact(errnoSlot(e), fd, command, argument), e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  public static int epoll_create1(int flags) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return result((int) EpollCreate1.HANDLE.invokeExact(errnoSlot(e), flags), e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /** {@code epoll_ctl(2)} with an event whose data is the descriptor number itself. */
  public static int epoll_ctl(int epfd, int op, int fd, int events) {
    NativeAccess.check();
    int[] e = new int[1];
    byte[] event = new byte[EPOLL_EVENT_SIZE];
    MemorySegment ev = MemorySegment.ofArray(event);
    ev.set(JAVA_INT_UNALIGNED, 0, events);
    ev.set(JAVA_INT_UNALIGNED, EPOLL_EVENT_DATA_OFFSET, fd);
    try {
      return result((int) EpollCtl.HANDLE.invokeExact(errnoSlot(e), epfd, op, fd, ev), e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /**
   * {@code epoll_wait(2)} into a native array of {@code maxEvents} events; may block, so call it on
   * a platform thread only. {@code state} is a native segment from {@link #allocateCaptureState}.
   */
  public static int epoll_wait(
      int epfd, MemorySegment events, int maxEvents, int timeoutMillis, MemorySegment state) {
    NativeAccess.check();
    try {
      return result(
          (int) EpollWait.HANDLE.invokeExact(state, epfd, events, maxEvents, timeoutMillis), state);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
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
    NativeAccess.check();
    try {
      return Integer.toUnsignedLong((int) Geteuid.HANDLE.invokeExact());
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  public static long getegid() {
    NativeAccess.check();
    try {
      return Integer.toUnsignedLong((int) Getegid.HANDLE.invokeExact());
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }
}
