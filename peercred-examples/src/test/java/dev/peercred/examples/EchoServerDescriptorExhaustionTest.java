package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.testing.Await;
import dev.peercred.testing.Background;
import dev.peercred.testing.CpuTime;
import dev.peercred.testing.Tools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the echo server in a child JVM whose descriptor limit is small ({@code prlimit --nofile}),
 * fills its descriptor table with connections, and checks that it reports {@code EMFILE}, backs off
 * instead of spinning, stays alive, and serves again, including the clients that waited in the
 * listen backlog meanwhile, once descriptors are free.
 */
@Timeout(300)
class EchoServerDescriptorExhaustionTest {
  private static final int LIMIT = 256;

  /** The pause in a back-off log line; the number is formatted for the locale ("1,000"). */
  private static final Pattern RETRY = Pattern.compile("accept failed, retrying in ([^ ]+) ms");

  /** The pauses the server has logged so far, in order, in milliseconds. */
  private static List<Long> pauses(EchoProcess echo) {
    List<Long> pauses = new ArrayList<>();
    Matcher retry = RETRY.matcher(echo.log());
    while (retry.find()) {
      pauses.add(Long.parseLong(retry.group(1).replaceAll("\\D", "")));
    }
    return pauses;
  }

  @TempDir Path dir;

  @Test
  void acceptBacksOffAtDescriptorLimitAndServesAgainOnceDescriptorsAreFree() throws Exception {
    Path prlimit = Tools.require(Path.of("/usr/bin/prlimit"));
    List<UnixConnection> fillers = new ArrayList<>();
    List<UnixConnection> queued = new ArrayList<>();
    try (EchoProcess echo =
        EchoProcess.start(
            dir, List.of(prlimit.toString(), "--nofile=" + LIMIT + ":" + LIMIT, "--"))) {
      int idle = echo.openDescriptors();
      assertTrue(idle < LIMIT - 20, "the JVM alone uses " + idle + " descriptors");
      // What the server's CPU costs while idle, over the window used at the limit below.
      Duration window = Duration.ofSeconds(1);
      Duration idleCpu = CpuTime.usedOver(window, echo::cpuTime);

      // Fill the server's table: each connection it accepts and serves holds one of its
      // descriptors. Connect one at a time, each served before the next, until one is not
      // served because the server has run out.
      while (!echo.log().contains("EMFILE")) {
        assertTrue(
            fillers.size() < 2 * LIMIT,
            "no EMFILE after " + fillers.size() + " connections\n" + echo.describe());
        UnixConnection filler = UnixConnection.connect(echo.socket);
        fillers.add(filler);
        Background<String> answer = Background.virtual(() -> EchoProcess.roundTrip(filler, "fill"));
        Await.until(
            "the server to serve connection " + fillers.size() + " or to run out of descriptors",
            () -> answer.isDone() || echo.log().contains("EMFILE"),
            echo::describe);
        if (answer.isDone()) {
          assertEquals("> fill", answer.get());
        }
      }
      int inUse = echo.openDescriptors();
      assertTrue(inUse >= LIMIT - 2, "the table is not full: " + inUse + " of " + LIMIT);

      // Clients that connect now wait in the backlog; one of them has already sent a line.
      for (int i = 0; i < 20; i++) {
        queued.add(UnixConnection.connect(echo.socket));
      }
      byte[] line = "queued\n".getBytes(StandardCharsets.US_ASCII);
      queued.get(0).writeFully(line, 0, line.length);

      // Backing off, not spinning: the pause between failed accepts doubles up to a second (and
      // starts again from 10 ms should an accept succeed in between).
      Await.until(
          "the accept back-off to reach one second",
          () -> pauses(echo).contains(1000L),
          echo::describe);
      List<Long> pauses = pauses(echo);
      assertEquals(10, pauses.get(0), "first pause: " + pauses);
      for (int i = 1; i < pauses.size(); i++) {
        long pause = pauses.get(i);
        assertTrue(
            pause == Math.min(pauses.get(i - 1) * 2, 1000) || pause == 10,
            "pauses, in order: " + pauses);
      }
      // And it costs what the idle server costs over the same window, give or take a quarter of
      // a core; a server spinning on accept would use the whole window whenever it got a CPU.
      Duration limitCpu = CpuTime.usedOver(window, echo::cpuTime);
      System.out.printf(
          "server CPU over %d ms: %d ms idle, %d ms at the descriptor limit%n",
          window.toMillis(), idleCpu.toMillis(), limitCpu.toMillis());
      assertTrue(
          limitCpu.minus(idleCpu).compareTo(window.dividedBy(4)) < 0,
          "server CPU at the descriptor limit: "
              + limitCpu.toMillis()
              + " ms in "
              + window.toMillis()
              + " ms, against "
              + idleCpu.toMillis()
              + " ms idle");
      assertTrue(echo.process.isAlive(), "server died\n" + echo.describe());

      // Free descriptors: the server serves again, the waiting client first.
      for (UnixConnection c : fillers) {
        c.close();
      }
      UnixConnection waiting = queued.get(0);
      waiting.setReadTimeout(Await.TIMEOUT);
      StringBuilder answer = new StringBuilder();
      int c;
      while ((c = waiting.inputStream().read()) >= 0 && c != '\n') {
        answer.append((char) c);
      }
      assertEquals("> queued", answer.toString(), echo.describe());
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
}
