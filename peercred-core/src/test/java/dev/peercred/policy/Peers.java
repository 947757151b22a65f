package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Real client processes for policy tests: {@code /usr/bin/python3} connecting to a socket, run as
 * another user through {@code setpriv} (tests run as root).
 */
final class Peers {
  private Peers() {}

  static final Path PYTHON = Path.of("/usr/bin/python3");
  static final Path SETPRIV = Path.of("/usr/bin/setpriv");

  /** Connects to argv[1], sends argv[2] (with \n as line breaks), prints all it reads, exits. */
  private static final String CLIENT =
      """
      import socket, sys
      s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      s.connect(sys.argv[1])
      if len(sys.argv) > 2 and sys.argv[2]:
          s.sendall(sys.argv[2].encode())
      out = b''
      while True:
          try:
              b = s.recv(65536)
          except ConnectionResetError:
              break
          if not b:
              break
          out += b
      sys.stdout.write(out.decode())
      """;

  static void assumeTools() {
    Assumptions.assumeTrue(
        Files.isExecutable(PYTHON) && Files.isExecutable(SETPRIV),
        "needs /usr/bin/python3 and /usr/bin/setpriv (apt-get install python3 util-linux)");
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")),
        "needs root to start clients as other users with setpriv");
  }

  /** A temp dir other users can enter, and a listener in it whose socket anyone may connect to. */
  static UnixListener listen(Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path socket = dir.resolve("s.sock");
    UnixListener listener = UnixListener.bind(socket);
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
    return listener;
  }

  /**
   * Starts a client as {@code uid}/{@code gid} with supplementary {@code groups} (none if empty)
   * that connects to {@code socket}, sends {@code input} and prints what it reads.
   */
  static Process client(Path socket, long uid, long gid, List<Long> groups, String input)
      throws IOException {
    return client(PYTHON, socket, uid, gid, groups, input);
  }

  /** Like {@link #client(Path, long, long, List, String)} with another Python executable. */
  static Process client(
      Path python, Path socket, long uid, long gid, List<Long> groups, String input)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(SETPRIV.toString());
    command.add("--reuid=" + uid);
    command.add("--regid=" + gid);
    if (groups.isEmpty()) {
      command.add("--clear-groups");
    } else {
      command.add("--groups=" + String.join(",", groups.stream().map(String::valueOf).toList()));
    }
    command.addAll(List.of(python.toString(), "-c", CLIENT, socket.toString(), input));
    return new ProcessBuilder(command).redirectErrorStream(false).start();
  }

  /** Waits for the client and returns what it printed. */
  static String output(Process client) throws Exception {
    assertTrue(client.waitFor(20, TimeUnit.SECONDS), "client did not finish");
    String err = new String(client.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(client.exitValue() == 0, "client failed: " + err);
    return out;
  }

  /**
   * Accepts one connection from a client started as {@code uid}/{@code gid}; the caller closes it.
   */
  static Accepted accept(UnixListener listener, long uid, long gid, List<Long> groups)
      throws IOException {
    Process client = client(listener.localAddress().path().orElseThrow(), uid, gid, groups, "");
    return new Accepted(client, listener.accept());
  }

  /** A client process and the server side of its connection. */
  record Accepted(Process client, UnixConnection connection) implements AutoCloseable {
    @Override
    public void close() {
      connection.close();
      try {
        client.waitFor(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        client.destroyForcibly();
      }
    }
  }

  /** Skips the test loudly when this build's PeerIdentity lacks process/group details. */
  static void assumeIdentityDetails(UnixConnection connection) throws IOException {
    try {
      connection.peerIdentity().groups();
      connection.peerIdentity().process();
      connection.peerIdentity().securityLabel();
    } catch (UnsupportedOperationException e) {
      Assumptions.abort(
          "PeerIdentity groups/process/label are not implemented in this build: " + e.getMessage());
    }
  }
}
