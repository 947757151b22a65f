package dev.peercred.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.peercred.PeerCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The http-demo server, called by curl as root and as other users. */
@Timeout(60)
class HttpWhoAmIServerTest {
  @TempDir Path dir;

  /** Runs curl over the socket, as {@code uid} unless it is -1; returns "STATUS BODY". */
  static String curl(long uid, Path socket, String method, String path)
      throws IOException, InterruptedException {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "SKIPPED LOUDLY: curl is missing");
    List<String> command = new ArrayList<>();
    if (uid >= 0) {
      assumeTrue(
          PeerCredentials.ofCurrentProcess().uid() == 0,
          "SKIPPED LOUDLY: this test runs curl as other users with setpriv: it must run as root");
      assumeTrue(
          Files.isExecutable(Path.of("/usr/bin/setpriv")), "SKIPPED LOUDLY: setpriv is missing");
      command.addAll(
          List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
    }
    command.addAll(
        List.of(
            "/usr/bin/curl",
            "-sS",
            "--max-time",
            "20",
            "-X",
            method,
            "--unix-socket",
            socket.toString(),
            "-w",
            "%{http_code}",
            "-o",
            "-",
            "http://localhost" + path));
    Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(curl.waitFor(30, TimeUnit.SECONDS));
    // the status code comes last: move it to the front
    return out.substring(out.length() - 3) + " " + out.substring(0, out.length() - 3);
  }

  @Test
  void whoamiAnswersTheOwnerAndRootInJsonAndOthersGet403() throws Exception {
    Path socket = dir.resolve("http.sock");
    Files.setPosixFilePermissions(
        dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    try (HttpWhoAmIServer server = HttpWhoAmIServer.start(socket, HttpWhoAmIServer.OWNER_OR_ROOT)) {
      String mine = curl(-1, socket, "GET", "/whoami");
      long uid = PeerCredentials.ofCurrentProcess().uid();
      assertTrue(
          Pattern.compile(
                  "200 \\{\"pid\":\\d+,\"uid\":"
                      + uid
                      + ",\"gid\":\\d+,\"groups\":\\[[0-9,]*],\"executable\":\"/usr/bin/curl\","
                      + "\"user\":\"[^\"]+\"}\n")
              .matcher(mine)
              .matches(),
          mine);

      String nobody = curl(65534, socket, "GET", "/whoami");
      assertTrue(nobody.startsWith("403 "), nobody);
      assertTrue(nobody.contains("uid=65534"), nobody);

      assertTrue(curl(-1, socket, "GET", "/elsewhere").startsWith("404 "));
      assertTrue(curl(-1, socket, "POST", "/whoami").startsWith("405 "));
    }
    assertTrue(Files.notExists(socket), "the socket file is removed on close");
  }

  @Test
  void stringsAreQuotedAsJson() {
    assertEquals(
        "\"/usr/bin/a \\\"b\\\" \\\\ \\u0001\"",
        HttpWhoAmIServer.jsonString("/usr/bin/a \"b\" \\ \u0001"));
  }
}
