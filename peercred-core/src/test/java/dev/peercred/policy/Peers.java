package dev.peercred.policy;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.PythonClient;
import dev.peercred.testing.Tools;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Real client processes for policy tests: {@code /usr/bin/python3} connecting to a socket, run as
 * another user through {@code setpriv} (tests run as root).
 */
final class Peers {
  private Peers() {}

  static final Path PYTHON = Tools.PYTHON3;
  static final Path SETPRIV = Users.SETPRIV;

  /** Skips the calling test, saying why, unless this is root with python3 and setpriv. */
  static void assumeTools() {
    Users.assumeRoot();
    Tools.python3();
    Tools.require(SETPRIV);
  }

  /** A temp dir other users can enter, and a listener in it whose socket anyone may connect to. */
  static UnixListener listen(Path dir) throws IOException {
    Users.openToEveryone(dir);
    Path socket = dir.resolve("s.sock");
    UnixListener listener = UnixListener.bind(socket);
    Users.openToEveryone(socket);
    return listener;
  }

  /**
   * Starts a client as {@code uid}/{@code gid} with supplementary {@code groups} (none if empty)
   * that connects to {@code socket}, sends {@code input} and prints what it reads.
   */
  static ChildProcess client(Path socket, long uid, long gid, List<Long> groups, String input)
      throws IOException {
    return client(PYTHON, socket, uid, gid, groups, input);
  }

  /** Like {@link #client(Path, long, long, List, String)} with another Python executable. */
  static ChildProcess client(
      Path python, Path socket, long uid, long gid, List<Long> groups, String input)
      throws IOException {
    List<String> command = new ArrayList<>(Users.as(uid, gid, groups));
    command.addAll(PythonClient.command(python, socket, input, false));
    return ChildProcess.start(command);
  }

  /** Waits for the client to exit successfully and returns what it printed. */
  static String output(ChildProcess client) throws Exception {
    return client.assertExit(0).stdout();
  }

  /**
   * Accepts one connection from a client started as {@code uid}/{@code gid}; the caller closes it.
   */
  static Accepted accept(UnixListener listener, long uid, long gid, List<Long> groups)
      throws IOException {
    ChildProcess client =
        client(listener.localAddress().path().orElseThrow(), uid, gid, groups, "");
    try {
      return new Accepted(client, listener.accept());
    } catch (IOException | RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** A client process and the server side of its connection. */
  record Accepted(ChildProcess client, UnixConnection connection) implements AutoCloseable {
    /** Closes the connection, lets the client see the end of stream and exit, then reaps it. */
    @Override
    public void close() {
      connection.close();
      try {
        client.awaitExit();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        client.close();
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
