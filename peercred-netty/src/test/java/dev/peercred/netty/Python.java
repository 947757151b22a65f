package dev.peercred.netty;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.testing.PythonClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The python3 client ({@link PythonClient}) run as another user. */
final class Python {
  private Python() {}

  record Result(int exit, String received) {}

  static void assumeOtherUsers() {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "SKIPPED LOUDLY: no python3");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "SKIPPED LOUDLY: no setpriv");
    assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0,
        "SKIPPED LOUDLY: this test runs clients as other users with setpriv: it must run as root");
  }

  static Result sendAs(long uid, Path socket, String text)
      throws IOException, InterruptedException {
    assumeOtherUsers();
    Process p =
        new ProcessBuilder(
                PythonClient.as(
                    List.of(
                        "/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"),
                    PythonClient.command(socket, text, true)))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out);
  }
}
