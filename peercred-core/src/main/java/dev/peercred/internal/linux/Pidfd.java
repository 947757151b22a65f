package dev.peercred.internal.linux;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Process file descriptors ({@code pidfd_open(2)}, {@code pidfd_send_signal(2)}): a pidfd refers to
 * one process for its whole life, never to a later process that reuses its pid.
 *
 * <p>Both calls go through {@code syscall(2)}, so they work with any glibc; neither blocks, so they
 * are linked critical with a heap errno slot.
 */
public final class Pidfd {
  private Pidfd() {}

  /**
   * {@code __NR_pidfd_send_signal}: 424 in arch/x86/entry/syscalls/syscall_64.tbl and in
   * include/uapi/asm-generic/unistd.h, which aarch64 uses (Linux 5.1+).
   */
  static final long SYS_PIDFD_SEND_SIGNAL = 424;

  /** {@code __NR_pidfd_open}: 434 on x86_64 and in asm-generic for aarch64 (Linux 5.3+). */
  static final long SYS_PIDFD_OPEN = 434;

  /** {@code PIDFD_NONBLOCK} is O_NONBLOCK; 0 asks for a plain pidfd, close-on-exec always. */
  private static final long PIDFD_FLAGS = 0;

  /** Linked at the first call (see {@link NativeAccess}). */
  private static final class Handles {
    static final MethodHandle SYSCALL =
        NativeAccess.link(
            "syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            NativeAccess.ERRNO,
            NativeAccess.HEAP,
            Linker.Option.firstVariadicArg(1));
  }

  private static long syscall(long number, long a, long b, MemorySegment c, long d) {
    NativeAccess.check();
    int[] e = new int[1];
    try {
      return LibC.result(
          (long) Handles.SYSCALL.invokeExact(LibC.errnoSlot(e), number, a, b, c, d), e);
    } catch (Throwable t) {
      throw NativeAccess.failure(t);
    }
  }

  /**
   * {@code pidfd_open(pid, 0)}: a new close-on-exec pidfd for the process (thread-group leader)
   * that has {@code pid} now, or {@code -errno} ({@code ESRCH}: none; {@code ENOSYS}: before 5.3).
   */
  public static int open(long pid) {
    return (int) syscall(SYS_PIDFD_OPEN, pid, PIDFD_FLAGS, MemorySegment.NULL, 0);
  }

  /**
   * {@code pidfd_send_signal(pidfd, 0, NULL, 0)}: sends no signal, only checks. Returns 0 while the
   * process has not been reaped (a zombie still counts), {@code -ESRCH} once it has.
   */
  public static int checkAlive(int pidfd) {
    return (int) syscall(SYS_PIDFD_SEND_SIGNAL, pidfd, 0, MemorySegment.NULL, 0);
  }

  /**
   * The {@code Pid:} line of {@code /proc/self/fdinfo/<pidfd>} (Linux 5.4+): the process's pid in
   * the pid namespace of that {@code /proc} mount, 0 if it has none there, -1 once it has been
   * reaped.
   *
   * @throws IOException if the line cannot be read
   */
  public static long fdinfoPid(int pidfd) throws IOException {
    String info;
    try {
      info =
          new String(
              Proc.readAll(Path.of("/proc/self/fdinfo/" + pidfd)), StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      throw new IOException("pidfd " + pidfd + " is not open", e);
    }
    for (String line : info.split("\n")) {
      if (line.startsWith("Pid:")) {
        try {
          return Long.parseLong(line.substring(4).trim());
        } catch (NumberFormatException e) {
          throw new IOException("unreadable Pid: line in /proc/self/fdinfo/" + pidfd + ": " + line);
        }
      }
    }
    throw new IOException("no Pid: line in /proc/self/fdinfo/" + pidfd + " (kernel before 5.4)");
  }
}
