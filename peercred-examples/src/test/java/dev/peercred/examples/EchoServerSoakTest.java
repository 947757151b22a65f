package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.testing.Await;
import dev.peercred.testing.Background;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Descriptors;
import dev.peercred.testing.Gc;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Soak: many connections to one echo server, mixing allowed ones (this process's user), refused
 * ones (a child process running as uid 65534 through {@code setpriv}) and aborted ones (closed at
 * once, mid-line, or without reading the answer). Afterwards the server's descriptor count and heap
 * are back to their baseline and it still serves.
 *
 * <p>The number of connections is {@code peercred.soak.connections} (default 100,000).
 */
@Timeout(900)
class EchoServerSoakTest {
  private static final int CONNECTIONS = Integer.getInteger("peercred.soak.connections", 100_000);
  private static final int ALLOWED_THREADS = 4;

  /** Held so the level set below sticks: 20,000 "UID mismatch" lines would only bury the output. */
  private static final java.util.logging.Logger ECHO_LOG =
      java.util.logging.Logger.getLogger("dev.peercred.echo");

  @TempDir Path dir;

  @Test
  void manyAllowedRefusedAndAbortedConnectionsLeaveNoDescriptorsOrHeapBehind() throws Exception {
    List<String> asNobody = Users.as(Users.NOBODY, Users.NOBODY); // refused: skips unless root
    Users.openToEveryone(dir);
    java.util.logging.Level level = ECHO_LOG.getLevel();
    ECHO_LOG.setLevel(java.util.logging.Level.WARNING);
    Path socket = dir.resolve("echo.sock");
    UnixListener listener = UnixListener.bind(socket);
    Users.openToEveryone(socket);
    EchoServer server = new EchoServer(listener, PeerCredentials.ofCurrentProcess().uid());
    Thread acceptor = Thread.ofPlatform().name("echo-accept").start(server::run);
    try {
      String classPath =
          Users.readableClassPathOf(dir.resolve("cp"), SoakRefusedClient.class, UnixListener.class);
      assertEquals("> warm", roundTrip(socket, "warm"));
      assertEquals(10, runRefused(socket, asNobody, classPath, 10).get()); // warm up both paths
      int baselineFds = Descriptors.count();
      long baselineHeap = Gc.usedHeap();

      int refused = CONNECTIONS / 5;
      int aborted = CONNECTIONS * 3 / 10;
      int allowed = CONNECTIONS - refused - aborted;
      long start = System.nanoTime();
      Background<Integer> refusals = runRefused(socket, asNobody, classPath, refused);
      AtomicInteger echoed = new AtomicInteger();
      AtomicInteger abortedDone = new AtomicInteger();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < ALLOWED_THREADS; t++) {
        int thread = t;
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        for (int i = thread; i < allowed; i += ALLOWED_THREADS) {
                          if (roundTrip(socket, "n" + i).equals("> n" + i)) {
                            echoed.incrementAndGet();
                          }
                        }
                        for (int i = thread; i < aborted; i += ALLOWED_THREADS) {
                          abort(socket, i % 3);
                          abortedDone.incrementAndGet();
                        }
                      } catch (IOException e) {
                        throw new AssertionError(e);
                      }
                    }));
      }
      for (Thread t : threads) {
        t.join();
      }
      int refusedOk = refusals.get(Duration.ofSeconds(600));
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "soak: %d connections (%d allowed, %d refused, %d aborted) in %.1f s, %.0f/s%n",
          CONNECTIONS, allowed, refused, aborted, seconds, CONNECTIONS / seconds);
      assertEquals(allowed, echoed.get());
      assertEquals(refused, refusedOk);
      assertEquals(aborted, abortedDone.get());
      assertEquals(0, listener.credentialFailures());

      Await.until(
          "descriptors back to the baseline of " + baselineFds,
          () -> Descriptors.count() <= baselineFds,
          () -> "descriptors: " + Descriptors.snapshot());
      long heap = Gc.usedHeap();
      System.out.printf("soak: heap %d KiB after, %d KiB before%n", heap >> 10, baselineHeap >> 10);
      assertTrue(
          heap < baselineHeap + (32 << 20), "heap grew from " + baselineHeap + " to " + heap);
      assertEquals("> after", roundTrip(socket, "after"));
    } finally {
      server.close();
      acceptor.join(Await.TIMEOUT);
      ECHO_LOG.setLevel(level);
    }
  }

  private static String roundTrip(Path socket, String line) throws IOException {
    try (UnixConnection connection = UnixConnection.connect(socket)) {
      connection.setReadTimeout(Await.TIMEOUT);
      return EchoProcess.roundTrip(connection, line);
    }
  }

  /** 0: close at once; 1: close mid-line; 2: send a line and close without reading the answer. */
  private static void abort(Path socket, int how) throws IOException {
    try (UnixConnection connection = UnixConnection.connect(socket)) {
      byte[] bytes = (how == 1 ? "half a li" : "unread\n").getBytes(StandardCharsets.US_ASCII);
      if (how > 0) {
        connection.writeFully(bytes, 0, bytes.length);
      }
    } catch (SocketException e) {
      // the server may already have answered and closed: fine for an aborting client
    }
  }

  /**
   * Runs {@link SoakRefusedClient} as another user for {@code count} connections; its result is how
   * many were refused as they should be.
   */
  private Background<Integer> runRefused(
      Path socket, List<String> asUser, String classPath, int count) {
    List<String> command =
        JavaCommand.main(SoakRefusedClient.class)
            .classPath(classPath)
            .args(socket.toString(), Integer.toString(count))
            .toList(asUser);
    return Background.virtual(
        () -> {
          try (ChildProcess client = ChildProcess.builder(command).directory(dir).start()) {
            ChildProcess.Result result = client.finish(Duration.ofSeconds(600));
            assertEquals(0, result.exitCode(), "refused client failed\n" + result);
            return Integer.parseInt(result.stdout().trim());
          }
        });
  }
}
