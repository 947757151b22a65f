package dev.peercred;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Tools;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real peer processes for the identity tests: python3 clients running as other users. */
final class PeerClients {
  private PeerClients() {}

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

  /** The python3 client's command line for {@code socket}. */
  static List<String> pythonCommand(Path socket) {
    return List.of(Tools.python3().toString(), "-c", CLIENT_SCRIPT, socket.toString());
  }

  /**
   * Starts the python3 client as {@code uid}/{@code gid} with exactly {@code groups} as
   * supplementary groups (none if empty); skips the test unless root with setpriv and python3.
   */
  static ChildProcess startPythonAs(long uid, long gid, List<Long> groups, Path socket)
      throws IOException {
    List<String> command = new ArrayList<>(Users.as(uid, gid, groups));
    command.addAll(pythonCommand(socket));
    return ChildProcess.start(command);
  }
}
