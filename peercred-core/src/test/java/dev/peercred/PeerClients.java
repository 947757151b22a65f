package dev.peercred;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.PythonClient;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real peer processes for the identity tests: python3 clients running as other users. */
final class PeerClients {
  private PeerClients() {}

  /**
   * The python3 client's command line for {@code socket}: it connects, sends one line, then waits
   * for the server to close before exiting.
   */
  static List<String> pythonCommand(Path socket) {
    return PythonClient.command(socket, "hi\n", false);
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
