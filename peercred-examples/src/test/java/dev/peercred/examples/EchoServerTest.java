package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The article's echo server: answers its own user only. */
@Timeout(120)
class EchoServerTest {
  @TempDir Path dir;

  private final List<String> log = new CopyOnWriteArrayList<>();
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          log.add(new java.util.logging.SimpleFormatter().formatMessage(record));
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void captureLog() {
    Logger.getLogger("dev.peercred.echo").addHandler(capture);
  }

  @AfterEach
  void releaseLog() {
    Logger.getLogger("dev.peercred.echo").removeHandler(capture);
  }

  private EchoServer start(Path socket, long ownerUid) throws Exception {
    EchoServer server = new EchoServer(UnixListener.bind(socket), ownerUid);
    Thread.ofVirtual().start(server::run);
    return server;
  }

  private static String run(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, process.exitValue(), "client failed: " + err);
    return out;
  }

  @Test
  void echoesEveryLineWithAPrefixToItsOwnUser() throws Exception {
    Path socket = dir.resolve("echo.sock");
    try (EchoServer server = start(socket, PeerCredentials.ofCurrentProcess().uid());
        UnixConnection client = UnixConnection.connect(socket)) {
      client.outputStream().write("this is a line\nsecond\n".getBytes(StandardCharsets.UTF_8));
      client.shutdownOutput();
      assertEquals(
          "> this is a line\n> second\n",
          new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void echoesLinesFromAnotherProcessOfTheSameUser() throws Exception {
    Path socket = dir.resolve("echo.sock");
    try (EchoServer server = start(socket, PeerCredentials.ofCurrentProcess().uid())) {
      // python3 sends without half-closing; the server answers, then the client's EOF comes
      // from the server only when the client closes — so ask python to shut down its output.
      String out =
          run(
              Processes.python(
                  Processes.LINE_CLIENT.replace(
                      "data = b\"\"", "s.shutdown(socket.SHUT_WR)\ndata = b\"\""),
                  socket.toString(),
                  "hello",
                  "world"));
      assertEquals("> hello\n> world\n", out);
    }
  }

  @Test
  void anotherUserReadsUnauthorizedAccessAndTheServerLogsBothUids() throws Exception {
    Path socket = dir.resolve("echo.sock");
    long owner = PeerCredentials.ofCurrentProcess().uid();
    try (EchoServer server = start(socket, owner)) {
      Processes.open(dir, "rwxr-xr-x");
      Processes.open(socket, "rwxrwxrwx");
      // The client sends a line first: it must still read the message and a clean end of stream.
      String out =
          run(
              Processes.concat(
                  Processes.asUser(Processes.NOBODY, Processes.NOBODY),
                  Processes.python(Processes.LINE_CLIENT, socket.toString(), "let me in")));
      assertEquals("Unauthorized access\n", out);
      assertTrue(
          log.contains("UID mismatch (65534 != " + owner + "). Closing connection."),
          log.toString());
    }
  }

  @Test
  void rootIsRefusedByAServerRunningAsAnotherUser() throws Exception {
    Processes.asUser(Processes.NOBODY, Processes.NOBODY); // skips loudly unless root
    Processes.open(dir, "rwxrwxrwx");
    Path socket = dir.resolve("echo.sock");
    Process server =
        new ProcessBuilder(
                Processes.concat(
                    Processes.asUser(Processes.NOBODY, Processes.NOBODY),
                    Processes.java(EchoServer.class, socket.toString())))
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader serverOutput =
          new BufferedReader(
              new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String banner = serverOutput.readLine();
      assertTrue(banner != null && banner.contains("listening"), "server said: " + banner);
      try (UnixConnection client = UnixConnection.connect(socket)) {
        assertEquals(Processes.NOBODY, client.peerCredentials().uid(), "the server runs as nobody");
        client.outputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(
            "Unauthorized access\n",
            new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
      List<String> lines = new ArrayList<>();
      String line;
      while ((line = serverOutput.readLine()) != null) {
        lines.add(line);
        if (line.contains("UID mismatch")) {
          break;
        }
      }
      assertTrue(
          String.join("\n", lines).contains("UID mismatch (0 != 65534). Closing connection."),
          lines.toString());
    } finally {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aLineLongerThanTheLimitEndsTheConnectionWithAnError() throws Exception {
    Path socket = dir.resolve("echo.sock");
    try (EchoServer server = start(socket, PeerCredentials.ofCurrentProcess().uid());
        UnixConnection client = UnixConnection.connect(socket)) {
      byte[] chunk = new byte[EchoServer.MAX_LINE / 4];
      java.util.Arrays.fill(chunk, (byte) 'x');
      try {
        for (int i = 0; i < 8; i++) {
          client.outputStream().write(chunk);
        }
      } catch (java.io.IOException serverClosedFirst) {
        // the server may refuse before everything is written
      }
      String answer = new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(answer.startsWith("error: line longer than"), answer);
    }
  }

  @Test
  void tenThousandConnectionsInARowLeaveTheDescriptorCountWhereItStarted() throws Exception {
    Path allowed = dir.resolve("allowed.sock");
    Path refused = dir.resolve("refused.sock");
    try (EchoServer a = start(allowed, PeerCredentials.ofCurrentProcess().uid());
        EchoServer r = start(refused, 4_000_000_000L)) {
      long baseline = Processes.openDescriptors();
      byte[] ping = "ping\n".getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i < 10_000; i++) {
        boolean allow = i % 2 == 0;
        try (UnixConnection client = UnixConnection.connect(allow ? allowed : refused)) {
          client.outputStream().write(ping);
          client.shutdownOutput();
          String answer = new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8);
          assertEquals(allow ? "> ping\n" : "Unauthorized access\n", answer);
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      long now = Processes.openDescriptors();
      while (now > baseline && System.nanoTime() < deadline) {
        Thread.sleep(20); // server threads close their ends right after the client reads EOF
        now = Processes.openDescriptors();
      }
      assertEquals(baseline, now, "descriptors leaked");
    }
  }

  @Test
  void tenThousandConnectionsAreHeldAtOnceOnVirtualThreads() throws Exception {
    Path socket = dir.resolve("echo.sock");
    int count = 10_000;
    try (EchoServer server = start(socket, PeerCredentials.ofCurrentProcess().uid())) {
      long baseline = Processes.openDescriptors();
      Process holder =
          new ProcessBuilder(
                  Processes.java(HoldingClient.class, socket.toString(), Integer.toString(count)))
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      try {
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        assertEquals("held " + count, out.readLine(), "every connection was echoed once");
        long held = Processes.openDescriptors() - baseline;
        assertTrue(held >= count, "server holds " + held + " connections");
        holder.getOutputStream().close(); // tell the holder to close them all
        assertEquals("closed", out.readLine());
      } finally {
        holder.destroy();
        holder.waitFor(30, TimeUnit.SECONDS);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (Processes.openDescriptors() > baseline && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(baseline, Processes.openDescriptors());
    }
  }

  @Test
  void theDefaultSocketIsTheArticles() {
    assertEquals(Path.of("/tmp/echo.sock"), EchoServer.DEFAULT_SOCKET);
    assertTrue(Files.isDirectory(EchoServer.DEFAULT_SOCKET.getParent()));
  }
}
