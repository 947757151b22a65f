package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code peercred echo} serves a socket passed by socket activation instead of binding one. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class EchoActivationTest {
  private static final Path SYSTEMD_SOCKET_ACTIVATE = Path.of("/usr/bin/systemd-socket-activate");

  @TempDir Path dir;

  private static List<String> echoCommand(String... arguments) {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                Main.class.getName(),
                "echo"));
    command.addAll(List.of(arguments));
    return command;
  }

  @Test
  void echoServesTheInheritedSocket() throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(SYSTEMD_SOCKET_ACTIVATE),
        "SKIPPED LOUDLY: "
            + SYSTEMD_SOCKET_ACTIVATE
            + " is missing; install Debian package 'systemd' in .ci/run");
    Path socket = dir.resolve("echo.sock");
    Path unused = dir.resolve("not-bound.sock");
    List<String> command =
        new ArrayList<>(List.of(SYSTEMD_SOCKET_ACTIVATE.toString(), "-l", socket.toString()));
    command.addAll(echoCommand(unused.toString()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try (UnixConnection connection = UnixConnection.connect(socket)) {
          connection.outputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
          var reader =
              new BufferedReader(
                  new InputStreamReader(connection.inputStream(), StandardCharsets.UTF_8));
          assertEquals("> hello", reader.readLine());
          break;
        } catch (ConnectException e) {
          assertTrue(
              process.isAlive() && System.nanoTime() < deadline,
              "echo did not start: " + e.getMessage());
          Thread.sleep(20);
        }
      }
      assertFalse(
          Files.exists(unused), "the path argument is not bound when a socket is inherited");
    } finally {
      process.destroy();
      process.waitFor(30, TimeUnit.SECONDS);
      process.destroyForcibly();
    }
    assertTrue(Files.exists(socket), "the service manager's socket file is left to it");
  }

  @Test
  void echoRefusesVariablesMeantForAnotherProcess() throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(echoCommand(dir.resolve("x.sock").toString())).redirectErrorStream(true);
    builder.environment().put("LISTEN_PID", "1");
    builder.environment().put("LISTEN_FDS", "1");
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS));
    assertEquals(Main.EXIT_FAILURE, process.exitValue(), output);
    assertTrue(output.contains("peercred echo: LISTEN_PID=1 but this process is"), output);
    assertFalse(Files.exists(dir.resolve("x.sock")));
  }
}
