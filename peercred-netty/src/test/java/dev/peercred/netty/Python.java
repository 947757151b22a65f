package dev.peercred.netty;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.peercred.PeerCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A python3 client run as another user: sends text, prints what it receives until EOF. */
final class Python {
  private Python() {}

  static final String CLIENT =
      """
      import socket, sys
      s = socket.socket(socket.AF_UNIX)
      s.connect(sys.argv[1])
      s.sendall(sys.argv[2].encode())
      s.shutdown(socket.SHUT_WR)
      data = b""
      try:
          while True:
              chunk = s.recv(65536)
              if not chunk:
                  break
              data += chunk
      except ConnectionResetError:
          pass
      sys.stdout.write(data.decode())
      """;

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
                List.of(
                    "/usr/bin/setpriv",
                    "--reuid=" + uid,
                    "--regid=" + uid,
                    "--clear-groups",
                    "/usr/bin/python3",
                    "-c",
                    CLIENT,
                    socket.toString(),
                    text))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out);
  }
}
