package dev.peercred.examples;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixListener;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/** Child processes for the example tests: python3 clients, Java servers, other users. */
final class Processes {
  private Processes() {}

  static final long NOBODY = 65534;
  static final String PYTHON = "/usr/bin/python3";

  /** A python3 client: connects, sends the lines, prints everything it receives until EOF. */
  static final String LINE_CLIENT =
      """
      import socket, sys
      s = socket.socket(socket.AF_UNIX)
      s.connect(sys.argv[1])
      s.sendall("".join(line + "\\n" for line in sys.argv[2:]).encode())
      data = b""
      while True:
          chunk = s.recv(65536)
          if not chunk:
              break
          data += chunk
      sys.stdout.write(data.decode())
      """;

  static List<String> asUser(long uid, long gid) {
    Assumptions.assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0,
        "SKIPPED LOUDLY: this test switches users with setpriv and must run as root (CI does)");
    Assumptions.assumeTrue(
        new File("/usr/bin/setpriv").canExecute(), "SKIPPED LOUDLY: /usr/bin/setpriv is missing");
    return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups");
  }

  static List<String> python(String script, String... args) {
    Assumptions.assumeTrue(
        new File(PYTHON).canExecute(), "SKIPPED LOUDLY: " + PYTHON + " is needed as a test client");
    List<String> command = new ArrayList<>(List.of(PYTHON, "-c", script));
    command.addAll(List.of(args));
    return command;
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /**
   * A java command running {@code main} with only this project's own classes on the class path, so
   * that a child running as another user can read all of it.
   */
  static List<String> java(Class<?> main, String... args) {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(location(main) + File.pathSeparator + location(UnixListener.class));
    command.add(main.getName());
    command.addAll(List.of(args));
    return command;
  }

  private static String location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static void open(Path path, String permissions) throws IOException {
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
  }

  static long openDescriptors() throws IOException {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
