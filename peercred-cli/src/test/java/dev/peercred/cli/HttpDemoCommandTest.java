package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code peercred http-demo} run as uid 1000: curl as 1000 and as root get their identity in JSON,
 * curl as nobody gets 403.
 */
@Timeout(120)
class HttpDemoCommandTest {
  @TempDir Path dir;

  private static final Duration T = Duration.ofSeconds(30);

  /** The option the command's jar carries in its manifest; the tests run from the class path. */
  private static List<String> withExport(List<String> command) {
    List<String> all = new ArrayList<>(command);
    all.add(all.indexOf(Cli.JAVA) + 1, "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED");
    return all;
  }

  private static Cli.Result curlAs(long uid, Path socket, String path) throws Exception {
    List<String> command = new ArrayList<>(Cli.asUser(uid, uid));
    command.addAll(
        List.of(
            "curl",
            "-sS",
            "--max-time",
            "20",
            "-w",
            "\n%{http_code}",
            "--unix-socket",
            socket.toString(),
            "http://localhost" + path));
    return Cli.run(command, T);
  }

  @Test
  void theOwnerAndRootGetTheirIdentityAndOthersGet403() throws Exception {
    Assumptions.assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0,
        "SKIPPED LOUDLY: this test runs the server and curl as other users: it must run as root");
    Cli.assumeInstalled("setpriv");
    Cli.assumeInstalled("curl");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path socket = dir.resolve("http.sock");
    try (Cli.Running server =
        new Cli.Running(
            withExport(Cli.peercredAs(1000, dir, "http-demo", socket.toString())), null)) {
      server.awaitErr(line -> line.contains("http-demo: listening on " + socket), T);

      Cli.Result owner = curlAs(1000, socket, "/whoami");
      assertTrue(owner.out().startsWith("{\"pid\":"), owner.out() + owner.stderr());
      assertTrue(owner.out().contains("\"uid\":1000,\"gid\":1000,"), owner.out());
      assertTrue(owner.out().contains("\"executable\":\"/usr/bin/curl\""), owner.out());
      assertTrue(owner.out().endsWith("\n200"), owner.out());

      Cli.Result root = curlAs(0, socket, "/whoami");
      assertTrue(root.out().contains("\"uid\":0,\"gid\":0,"), root.out());
      assertTrue(root.out().endsWith("\n200"), root.out());

      Cli.Result nobody = curlAs(65534, socket, "/whoami");
      assertTrue(nobody.out().endsWith("\n403"), nobody.out());
      assertEquals(0, nobody.exitCode(), nobody.stderr());
      server.awaitErr(line -> line.contains("DENY") && line.contains("uid=65534"), T);
    }
  }
}
