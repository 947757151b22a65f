package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.testing.Await;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Descriptors;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.LogLines;
import dev.peercred.testing.PythonClient;
import dev.peercred.testing.Users;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The article's echo server: answers its own user only. */
@Timeout(300)
class EchoServerTest {
  @TempDir Path dir;

  private LogLines log;

  @BeforeEach
  void captureLog() {
    log = LogLines.capture("dev.peercred.echo");
  }

  @AfterEach
  void releaseLog() {
    log.close();
  }

  private EchoServer start(Path socket, long ownerUid) throws Exception {
    EchoServer server = new EchoServer(UnixListener.bind(socket), ownerUid);
    Thread.ofVirtual().start(server::run);
    return server;
  }

  private static String run(List<String> command) throws Exception {
    ChildProcess.Result result = ChildProcess.run(command);
    assertEquals(0, result.exitCode(), "client failed\n" + result);
    return result.stdout();
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
      // The server answers, then ends the stream when the client has ended its own.
      String out = run(ExampleClients.lineClient(socket, true, "hello", "world"));
      assertEquals("> hello\n> world\n", out);
    }
  }

  @Test
  void anotherUserReadsUnauthorizedAccessAndTheServerLogsBothUids() throws Exception {
    Path socket = dir.resolve("echo.sock");
    long owner = PeerCredentials.ofCurrentProcess().uid();
    try (EchoServer server = start(socket, owner)) {
      Users.openToEveryone(dir);
      Users.openToEveryone(socket);
      // The client sends a line first: it must still read the message and a clean end of stream.
      String out =
          run(
              PythonClient.as(
                  Users.as(Users.NOBODY, Users.NOBODY),
                  ExampleClients.lineClient(socket, false, "let me in")));
      assertEquals("Unauthorized access\n", out);
      assertTrue(
          log.lines().contains("UID mismatch (65534 != " + owner + "). Closing connection."),
          log.lines().toString());
    }
  }

  @Test
  void rootIsRefusedByAServerRunningAsAnotherUser() throws Exception {
    List<String> asNobody = Users.as(Users.NOBODY, Users.NOBODY); // skips unless root
    // The server, running as nobody, creates its socket here; the test reads its classes.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path socket = dir.resolve("echo.sock");
    List<String> command =
        JavaCommand.main(EchoServer.class)
            .classPath(
                Users.readableClassPathOf(dir.resolve("cp"), EchoServer.class, UnixListener.class))
            .args(socket.toString())
            .toList(asNobody);
    try (ChildProcess server = ChildProcess.builder(command).mergeStderr().start()) {
      server.awaitStdout("listening");
      try (UnixConnection client = UnixConnection.connect(socket)) {
        assertEquals(Users.NOBODY, client.peerCredentials().uid(), "the server runs as nobody");
        client.outputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(
            "Unauthorized access\n",
            new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
      server.awaitStdout("UID mismatch (0 != 65534). Closing connection.");
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
      int baseline = Descriptors.count();
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
      // Server threads close their ends right after the client reads EOF, not before.
      Await.until("the servers to close their ends", () -> Descriptors.count() <= baseline);
      assertEquals(baseline, Descriptors.count(), "descriptors leaked");
    }
  }

  @Test
  void tenThousandConnectionsAreHeldAtOnceOnVirtualThreads() throws Exception {
    Path socket = dir.resolve("echo.sock");
    int count = 10_000;
    try (EchoServer server = start(socket, PeerCredentials.ofCurrentProcess().uid())) {
      int baseline = Descriptors.count();
      List<String> command =
          JavaCommand.main(HoldingClient.class)
              .args(socket.toString(), Integer.toString(count))
              .toList();
      try (ChildProcess holder = ChildProcess.start(command)) {
        // Ten thousand connections, made and echoed one after the other: much work on a busy
        // machine, so a longer bound than most waits.
        String held = holder.awaitStdout("held", Duration.ofMinutes(4));
        assertEquals("held " + count, held, "every connection was echoed once");
        long serverSide = Descriptors.count() - baseline;
        assertTrue(serverSide >= count, "server holds " + serverSide + " connections");
        holder.closeStdin(); // tell the holder to close them all
        holder.awaitStdout(line -> line.equals("closed"));
        holder.assertExit(0);
      }
      Await.until("the server to close every connection", () -> Descriptors.count() <= baseline);
      assertEquals(baseline, Descriptors.count());
    }
  }

  @Test
  void theDefaultSocketIsTheArticles() {
    assertEquals(Path.of("/tmp/echo.sock"), EchoServer.DEFAULT_SOCKET);
    assertTrue(Files.isDirectory(EchoServer.DEFAULT_SOCKET.getParent()));
  }
}
