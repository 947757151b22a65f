package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
    Process child = Children.startJvm(NonBlockingProbe.class);
    List<String> lines = new ArrayList<>();
    CompletableFuture<Void> reading =
        CompletableFuture.runAsync(
            () -> {
              try (var in =
                  new BufferedReader(
                      new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                  synchronized (lines) {
                    lines.add(line);
                  }
                }
              } catch (java.io.IOException e) {
                // the child was killed
              }
            });
    try {
      reading.get(60, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      synchronized (lines) {
        throw new AssertionError("a step blocked; the child said only " + lines);
      }
    } finally {
      child.destroyForcibly();
      child.waitFor(10, TimeUnit.SECONDS);
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
    assertTrue(child.exitValue() == 0, "exit " + child.exitValue());
  }
}
