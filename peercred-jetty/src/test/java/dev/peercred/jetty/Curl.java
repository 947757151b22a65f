package dev.peercred.jetty;

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

/** Runs curl over a Unix socket, optionally as another user through setpriv. */
final class Curl {
  private Curl() {}

  static final Path CURL = Path.of("/usr/bin/curl");
  static final Path SETPRIV = Path.of("/usr/bin/setpriv");

  /** What curl printed: the body, then a last line with the status code. */
  record Reply(int exit, int status, String body) {}

  /** Skips loudly unless curl and setpriv exist and this runs as root. */
  static void assumeOtherUsers() {
    assumeTrue(Files.isExecutable(CURL), "SKIPPED LOUDLY: /usr/bin/curl is missing");
    assumeTrue(Files.isExecutable(SETPRIV), "SKIPPED LOUDLY: /usr/bin/setpriv is missing");
    assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0,
        "SKIPPED LOUDLY: this test runs curl as other users with setpriv: it must run as root");
  }

  static Reply get(Path socket, String path) throws IOException, InterruptedException {
    return run(List.of(), socket, path);
  }

  static Reply getAs(long uid, long gid, Path socket, String path)
      throws IOException, InterruptedException {
    assumeOtherUsers();
    return run(
        List.of(
            SETPRIV.toString(),
            "--reuid=" + uid,
            "--regid=" + gid,
            "--clear-groups",
            "--inh-caps=-all"),
        socket,
        path);
  }

  private static Reply run(List<String> prefix, Path socket, String path)
      throws IOException, InterruptedException {
    assumeTrue(Files.isExecutable(CURL), "SKIPPED LOUDLY: /usr/bin/curl is missing");
    List<String> command = new ArrayList<>(prefix);
    command.addAll(
        List.of(
            CURL.toString(),
            "-sS",
            "--max-time",
            "20",
            "--unix-socket",
            socket.toString(),
            "-w",
            "\n%{http_code}",
            "http://localhost" + path));
    Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(curl.waitFor(30, TimeUnit.SECONDS), "curl did not finish");
    int newline = out.lastIndexOf('\n');
    int status;
    try {
      status = Integer.parseInt(out.substring(newline + 1).trim());
    } catch (NumberFormatException e) {
      status = -1;
    }
    return new Reply(curl.exitValue(), status, newline < 0 ? out : out.substring(0, newline));
  }
}
