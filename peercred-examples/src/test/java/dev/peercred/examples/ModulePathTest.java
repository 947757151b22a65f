package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The modules run on the module path with native access granted to dev.peercred only. */
@Timeout(300)
class ModulePathTest {
  @TempDir Path dir;

  private static String location(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @Test
  void theEchoServerRunsAsNamedModulesWithoutNativeAccessWarnings() throws Exception {
    Path socket = dir.resolve("echo.sock");
    List<String> command =
        List.of(
            JavaCommand.java().toString(),
            "--enable-native-access=dev.peercred",
            "--module-path",
            location(EchoServer.class) + File.pathSeparator + location(UnixListener.class),
            "--module",
            "dev.peercred.examples/dev.peercred.examples.EchoServer",
            socket.toString());
    try (ChildProcess server = ChildProcess.builder(command).mergeStderr().start()) {
      String banner = server.awaitStdout("listening");
      assertEquals(
          banner, server.stdoutLines().get(0), "the banner comes first\n" + server.describe());
      assertFalse(server.stdout().contains("WARNING"), server.describe());
      try (UnixConnection client = UnixConnection.connect(socket)) {
        client.outputStream().write("modular\n".getBytes(StandardCharsets.UTF_8));
        client.shutdownOutput();
        assertEquals(
            "> modular\n", new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    }
  }
}
