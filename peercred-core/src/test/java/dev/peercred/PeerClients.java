package dev.peercred;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** Starts real peer processes for the identity tests: python3 clients, other uids, namespaces. */
final class PeerClients {
  private PeerClients() {}

  static final Path PYTHON = Path.of("/usr/bin/python3");
  static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  static final Path UNSHARE = Path.of("/usr/bin/unshare");

  /**
   * Connects, sends one line, then waits for the server to close before exiting. A server that
   * closes without reading the line makes the kernel reset the connection; that still counts as the
   * server closing.
   */
  static final String CLIENT_SCRIPT =
      "import socket,sys\n"
          + "s=socket.socket(socket.AF_UNIX)\n"
          + "s.connect(sys.argv[1])\n"
          + "try:\n"
          + "    s.sendall(b'hi\\n')\n"
          + "    while s.recv(64): pass\n"
          + "except (ConnectionResetError, BrokenPipeError):\n"
          + "    pass\n";

  static void assumeTool(Path tool) {
    assumeTrue(Files.isExecutable(tool), tool + " is not installed; this test needs it");
  }

  static void assumeRoot() {
    assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0,
        "this test runs other uids through setpriv and namespaces through unshare: it needs root");
  }

  /** Makes a {@code @TempDir} reachable by other uids (JUnit creates it 0700). */
  static void openDirectory(Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  static void openSocket(Path socket) throws IOException {
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
  }

  /** The python3 client's command line for {@code socket}. */
  static List<String> pythonCommand(Path socket) {
    return List.of(PYTHON.toString(), "-c", CLIENT_SCRIPT, socket.toString());
  }

  /**
   * Starts the python3 client as {@code uid}/{@code gid} with exactly {@code groups} as
   * supplementary groups (none if empty).
   */
  static Process startPythonAs(long uid, long gid, List<Long> groups, Path socket)
      throws IOException {
    assumeTool(PYTHON);
    assumeTool(SETPRIV);
    assumeRoot();
    List<String> command = new ArrayList<>();
    command.add(SETPRIV.toString());
    command.add("--reuid=" + uid);
    command.add("--regid=" + gid);
    if (groups.isEmpty()) {
      command.add("--clear-groups");
    } else {
      command.add("--groups=" + String.join(",", groups.stream().map(String::valueOf).toList()));
    }
    command.addAll(pythonCommand(socket));
    return new ProcessBuilder(command).redirectErrorStream(true).start();
  }

  /** {@code java} of this JVM, with native access and this module's classes. */
  static List<String> javaCommand(String mainClass, String... arguments) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xshare:auto");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(
        Path.of("target", "classes").toAbsolutePath()
            + ":"
            + Path.of("target", "test-classes").toAbsolutePath());
    command.add(mainClass);
    command.addAll(List.of(arguments));
    return command;
  }
}
