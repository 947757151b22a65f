package dev.peercred.internal.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@code fcntl(2)} is a critical downcall, and some of its commands block ({@code F_SETLKW}): only
 * named wrappers for the four commands peercred needs are public.
 */
class FcntlTest {
  @Test
  void noCallerCanIssueAnArbitraryCommand() {
    assertThrows(
        NoSuchMethodException.class,
        () -> LibC.class.getMethod("fcntl", int.class, int.class, int.class));
  }

  @Test
  void theNamedWrappersReadAndChangeTheFlags() {
    int[] fds = new int[2];
    assertEquals(
        0,
        LibC.socketpair(
            LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0, fds));
    try {
      int fd = fds[0];
      assertTrue((LibC.getStatusFlags(fd) & LibC.O_NONBLOCK) != 0);
      assertEquals(0, Lifecycle.setNonBlocking(fd, false));
      assertEquals(0, LibC.getStatusFlags(fd) & LibC.O_NONBLOCK);
      assertEquals(0, Lifecycle.setNonBlocking(fd, true));
      assertTrue((LibC.getStatusFlags(fd) & LibC.O_NONBLOCK) != 0);

      assertEquals(LibC.FD_CLOEXEC, LibC.getDescriptorFlags(fd) & LibC.FD_CLOEXEC);
      assertEquals(0, Lifecycle.setCloseOnExec(fd, false));
      assertEquals(0, LibC.getDescriptorFlags(fd) & LibC.FD_CLOEXEC);
      assertEquals(0, Lifecycle.setCloseOnExec(fd, true));
      assertEquals(LibC.FD_CLOEXEC, LibC.getDescriptorFlags(fd) & LibC.FD_CLOEXEC);
    } finally {
      LibC.close(fds[0]);
      LibC.close(fds[1]);
    }
    assertEquals(-Errno.EBADF, LibC.getStatusFlags(fds[0]));
    assertEquals(-Errno.EBADF, Lifecycle.setNonBlocking(fds[0], true));
  }
}
