package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The modules run on the module path with native access granted to dev.peercred only. */
@Timeout(60)
class ModulePathTest {
  @TempDir Path dir;

  private static String location(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  @Test
  void theEchoServerRunsAsNamedModulesWithoutNativeAccessWarnings() throws Exception {
    Path socket = dir.resolve("echo.sock");
    Process server =
        new ProcessBuilder(
                List.of(
                    ProcessHandle.current().info().command().orElse("java"),
                    "--enable-native-access=dev.peercred",
                    "--module-path",
                    location(EchoServer.class) + File.pathSeparator + location(UnixListener.class),
                    "--module",
                    "dev.peercred.examples/dev.peercred.examples.EchoServer",
                    socket.toString()))
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader output =
          new BufferedReader(
              new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String banner = output.readLine();
      assertTrue(banner != null && banner.contains("listening"), "server said: " + banner);
      assertFalse(banner.contains("WARNING"), banner);
      try (UnixConnection client = UnixConnection.connect(socket)) {
        client.outputStream().write("modular\n".getBytes(StandardCharsets.UTF_8));
        client.shutdownOutput();
        assertEquals(
            "> modular\n", new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
    } finally {
      server.destroy();
      assertTrue(server.waitFor(10, TimeUnit.SECONDS));
    }
  }
}
