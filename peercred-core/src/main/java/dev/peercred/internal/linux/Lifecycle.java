package dev.peercred.internal.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The C library calls the socket lifecycle needs beyond {@link LibC}: numeric {@code chmod(2)} and
 * {@code lchown(2)} on a socket file, and {@code unsetenv(3)} for the socket-activation variables.
 * Same conventions as {@link LibC}: the C result, or {@code -errno}.
 */
public final class Lifecycle {
  private Lifecycle() {}

  /** Linked at the first call (see {@link NativeAccess}). */
  private static final class Handles {
    static final MethodHandle CHMOD =
        NativeAccess.link(
            "chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), NativeAccess.ERRNO);
    static final MethodHandle LCHOWN =
        NativeAccess.link(
            "lchown",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            NativeAccess.ERRNO);
    static final MethodHandle UNSETENV =
        NativeAccess.link("unsetenv", FunctionDescriptor.of(JAVA_INT, ADDRESS), NativeAccess.ERRNO);
  }

  private static MemorySegment cPath(Arena arena, Path path) {
    byte[] bytes = path.toString().getBytes(SocketAddresses.FILE_NAME_CHARSET);
    MemorySegment s = arena.allocate(bytes.length + 1L);
    s.copyFrom(MemorySegment.ofArray(bytes));
    return s; // arena memory is zeroed: the last byte is the terminating NUL
  }

  /** {@code chmod(2)} with the permission bits {@code mode}. */
  public static int chmod(Path path, int mode) {
    NativeAccess.check();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(LibC.CAPTURE);
      return LibC.result((int) Handles.CHMOD.invokeExact(state, cPath(arena, path), mode), state);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /** {@code lchown(2)}; {@code -1} leaves the uid or gid as it is. */
  public static int lchown(Path path, int uid, int gid) {
    NativeAccess.check();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(LibC.CAPTURE);
      return LibC.result(
          (int) Handles.LCHOWN.invokeExact(state, cPath(arena, path), uid, gid), state);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /**
   * {@code unsetenv(3)}: removes {@code name} from the C library's environment, which native code
   * and child processes started without an explicit environment see. The JVM's own snapshot ({@link
   * System#getenv()}) is not changed.
   */
  public static int unsetenv(String name) {
    NativeAccess.check();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(LibC.CAPTURE);
      MemorySegment cName = arena.allocateFrom(name);
      return LibC.result((int) Handles.UNSETENV.invokeExact(state, cName), state);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /** Sets or clears {@code FD_CLOEXEC}; returns 0 or {@code -errno}. */
  public static int setCloseOnExec(int fd, boolean on) {
    return setFlag(fd, false, LibC.FD_CLOEXEC, on);
  }

  /** Sets or clears {@code O_NONBLOCK}; returns 0 or {@code -errno}. */
  public static int setNonBlocking(int fd, boolean on) {
    return setFlag(fd, true, LibC.O_NONBLOCK, on);
  }

  /**
   * Sets or clears {@code flag} among the file status flags ({@code status}) or the file descriptor
   * flags of {@code fd}, calling {@code fcntl} to set only if it changes.
   */
  private static int setFlag(int fd, boolean status, int flag, boolean on) {
    int flags = status ? LibC.getStatusFlags(fd) : LibC.getDescriptorFlags(fd);
    if (flags < 0) {
      return flags;
    }
    int wanted = on ? flags | flag : flags & ~flag;
    if (wanted == flags) {
      return 0;
    }
    return Math.min(
        0, status ? LibC.setStatusFlags(fd, wanted) : LibC.setDescriptorFlags(fd, wanted));
  }

  /** Reads an int socket option of a raw descriptor into {@code out[0]}; 0 or {@code -errno}. */
  public static int intOption(int fd, int name, int[] out) {
    int[] length = {4};
    return LibC.getsockopt(fd, LibC.SOL_SOCKET, name, out, length);
  }
}
