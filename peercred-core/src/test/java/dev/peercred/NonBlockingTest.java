package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A socket shares its file status flags with every process that holds the same open file (an
 * inherited or activated socket): one of them can clear {@code O_NONBLOCK}. peercred's reads and
 * writes still never block in the kernel ({@code MSG_DONTWAIT} on every {@code recv} and {@code
 * send}, which are critical downcalls and would hold up every safepoint), and {@code accept4},
 * which has no such flag, is an ordinary downcall: it may then wait in the kernel, but the JVM goes
 * on (a garbage collection completes meanwhile). Runs in a child JVM, which is given up on if a
 * step blocks.
 */
@Timeout(120)
class NonBlockingTest {
  @Test
  void socketsWhoseNonBlockingFlagWasClearedNeverBlockTheJvm() throws Exception {
    List<String> lines;
    try (ChildProcess child =
        ChildProcess.start(JavaCommand.main(NonBlockingProbe.class).toList())) {
      // A step that blocks keeps the child from exiting: the bounded wait then fails, showing
      // what it said so far.
      lines = child.assertExit(0).stdoutLines();
    }
    assertEquals(
        List.of(
            "read SocketTimeoutException",
            "write SocketTimeoutException",
            "close AsynchronousCloseException",
            "gc while accept4 waits",
            "accept returned a connection",
            "done"),
        lines);
  }
}
