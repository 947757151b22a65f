package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.testing.Await;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Tools;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code peercred echo} serves a socket passed by socket activation instead of binding one. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class EchoActivationTest {
  private static final Path SYSTEMD_SOCKET_ACTIVATE = Path.of("/usr/bin/systemd-socket-activate");

  @TempDir Path dir;

  private static List<String> echoCommand(String... arguments) {
    List<String> command = new ArrayList<>(List.of("echo"));
    command.addAll(List.of(arguments));
    return Cli.peercred(command.toArray(String[]::new));
  }

  @Test
  void echoServesTheInheritedSocket() throws Exception {
    Tools.require(SYSTEMD_SOCKET_ACTIVATE);
    Path socket = dir.resolve("echo.sock");
    Path unused = dir.resolve("not-bound.sock");
    List<String> command =
        new ArrayList<>(List.of(SYSTEMD_SOCKET_ACTIVATE.toString(), "-l", socket.toString()));
    command.addAll(echoCommand(unused.toString()));
    try (ChildProcess process = ChildProcess.builder(command).mergeStderr().start()) {
      // It listens, and starts peercred echo when the first connection comes.
      process.awaitStdout("Listening on " + socket);
      try (UnixConnection connection = UnixConnection.connect(socket)) {
        connection.setReadTimeout(Await.TIMEOUT);
        connection.outputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
        var reader =
            new BufferedReader(
                new InputStreamReader(connection.inputStream(), StandardCharsets.UTF_8));
        assertEquals("> hello", reader.readLine(), process.describe());
      }
      assertFalse(
          Files.exists(unused), "the path argument is not bound when a socket is inherited");
      // An orderly stop (its shutdown hook closes the listener) leaves the file alone.
      process.signal("TERM");
      process.awaitExit();
      assertTrue(
          Files.exists(socket),
          "the service manager's socket file is left to it\n" + process.describe());
    }
  }

  @Test
  void echoRefusesVariablesMeantForAnotherProcess() throws Exception {
    try (ChildProcess process =
        ChildProcess.builder(echoCommand(dir.resolve("x.sock").toString()))
            .mergeStderr()
            .environment("LISTEN_PID", "1")
            .environment("LISTEN_FDS", "1")
            .start()) {
      String output = process.assertExit(Main.EXIT_FAILURE).stdout();
      assertTrue(output.contains("peercred echo: LISTEN_PID=1 but this process is"), output);
      assertFalse(Files.exists(dir.resolve("x.sock")));
    }
  }
}
