package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the echo server in a child JVM whose descriptor limit is small ({@code prlimit --nofile}),
 * fills its descriptor table with connections, and checks that it reports {@code EMFILE}, backs off
 * instead of spinning, stays alive, and serves again, including the clients that waited in the
 * listen backlog meanwhile, once descriptors are free.
 */
@Timeout(120)
class EchoServerDescriptorExhaustionTest {
  private static final int LIMIT = 256;

  @TempDir Path dir;

  @Test
  void acceptBacksOffAtDescriptorLimitAndServesAgainOnceDescriptorsAreFree() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/prlimit")),
        "prlimit (util-linux) is needed to start the server with a small descriptor limit");
    List<UnixConnection> fillers = new ArrayList<>();
    List<UnixConnection> queued = new ArrayList<>();
    try (EchoProcess echo =
        EchoProcess.start(
            dir, List.of("/usr/bin/prlimit", "--nofile=" + LIMIT + ":" + LIMIT, "--"))) {
      int idle = echo.openDescriptors();
      assertTrue(idle < LIMIT - 20, "the JVM alone uses " + idle + " descriptors");

      // Fill the server's table: each accepted connection holds one of its descriptors.
      while (echo.openDescriptors() < LIMIT && fillers.size() < 2 * LIMIT) {
        for (int i = 0; i < 16; i++) {
          fillers.add(UnixConnection.connect(echo.socket));
        }
        Thread.sleep(20);
      }
      awaitLog(echo, "EMFILE");
      int inUse = echo.openDescriptors();
      assertTrue(inUse >= LIMIT - 2, "the table is not full: " + inUse + " of " + LIMIT);

      // Clients that connect now wait in the backlog; one of them has already sent a line.
      for (int i = 0; i < 20; i++) {
        queued.add(UnixConnection.connect(echo.socket));
      }
      byte[] line = "queued\n".getBytes(StandardCharsets.US_ASCII);
      queued.get(0).writeFully(line, 0, line.length);

      // Backing off, not spinning: well under one core over a second while at the limit.
      Thread.sleep(1500);
      long ticksPerSecond = EchoProcess.ticksPerSecond();
      long before = echo.cpuTicks();
      long start = System.nanoTime();
      Thread.sleep(1000);
      long used = echo.cpuTicks() - before;
      double seconds = (System.nanoTime() - start) / 1e9;
      double cores = used / (double) ticksPerSecond / seconds;
      System.out.printf("server CPU at the descriptor limit: %.3f cores%n", cores);
      assertTrue(cores < 0.5, "server spins at the descriptor limit: " + cores + " cores");
      assertTrue(echo.process.isAlive(), "server died: " + echo.log());

      // Free descriptors: the server serves again, the waiting client first.
      for (UnixConnection c : fillers) {
        c.close();
      }
      UnixConnection waiting = queued.get(0);
      waiting.setReadTimeout(Duration.ofSeconds(30));
      StringBuilder answer = new StringBuilder();
      int c;
      while ((c = waiting.inputStream().read()) >= 0 && c != '\n') {
        answer.append((char) c);
      }
      assertEquals("> queued", answer.toString());
      assertEquals("> again", echo.roundTrip("again"));
      assertTrue(echo.process.isAlive());
      String log = echo.log();
      assertTrue(log.contains("accept failed, retrying in"), log);
      assertTrue(!log.contains("OutOfMemoryError") && !log.contains("Exception in thread"), log);
    } finally {
      fillers.forEach(UnixConnection::close);
      queued.forEach(UnixConnection::close);
    }
  }

  private static void awaitLog(EchoProcess echo, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!echo.log().contains(text)) {
      assertTrue(System.nanoTime() - deadline < 0, "no '" + text + "' in the log: " + echo.log());
      Thread.sleep(20);
    }
  }
}
