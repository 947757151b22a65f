package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Background;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Tools;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * File permissions and peer checks are two layers: a client running as another user (uid 65534,
 * through {@code setpriv}) cannot even connect to a socket in a directory it may not enter, while
 * an abstract socket has no permissions at all, so there only the peer check stands between it and
 * the server.
 */
@Timeout(300)
class PermissionLayersTest {
  @TempDir Path dir;
  private String classPath;

  @BeforeEach
  void otherUserCanRunTheProbe() throws IOException {
    Users.assumeRoot();
    Tools.require(Users.SETPRIV);
    Users.openToEveryone(dir);
    classPath = Users.readableClassPath(dir.resolve("cp"));
  }

  @Test
  void socketInADirectoryTheClientCannotEnterRefusesItBeforeAnyAccept() throws Exception {
    Path privateDir = Files.createDirectory(dir.resolve("private"));
    Files.setPosixFilePermissions(privateDir, PosixFilePermissions.fromString("rwx------"));
    try (UnixListener listener = UnixListener.bind(privateDir.resolve("s"))) {
      Files.setPosixFilePermissions(
          privateDir.resolve("s"), PosixFilePermissions.fromString("rwxrwxrwx"));
      String out = probeAsNobody(privateDir.resolve("s").toString());
      assertTrue(out.startsWith("failed java.net.ConnectException"), out);
      assertTrue(out.contains("EACCES"), out);
      // connect(2) failed in the kernel, so nothing was queued: the first connection the listener
      // accepts is the one made next, by this process.
      try (UnixConnection mine = UnixConnection.connect(privateDir.resolve("s"));
          UnixConnection accepted = listener.accept()) {
        assertEquals(
            ProcessHandle.current().pid(),
            accepted.peerCredentials().pid().orElseThrow(),
            "the kernel let the other user's connection through");
      }
    }
  }

  @Test
  void abstractSocketLetsAnyoneConnectSoThePeerCheckMustRefuse() throws Exception {
    UnixSocketAddress address =
        UnixSocketAddress.ofAbstract("peercred-layers-" + ProcessHandle.current().pid());
    try (UnixListener listener = UnixListener.bind(address, ListenerOptions.defaults())) {
      Background<String> probe = Background.virtual(() -> probeAsNobody(address.toString()));
      try (UnixConnection connection = listener.accept()) {
        assertEquals(65534, connection.peerCredentials().uid());
        assertFalse(connection.peerCredentials().hasUid(0));
        connection.refuse("Unauthorized access\n");
      }
      String out = probe.get();
      // The client, too, learns who the server is: root, taken at listen(2).
      assertEquals("connected 0\nUnauthorized access", out);
    }
  }

  private String probeAsNobody(String address) throws Exception {
    List<String> command =
        JavaCommand.main(ConnectProbe.class)
            .classPath(classPath)
            .args(address)
            .toList(Users.as(Users.NOBODY, Users.NOBODY));
    try (ChildProcess probe = ChildProcess.builder(command).directory(dir).start()) {
      return probe.assertExit(0).stdout().trim();
    }
  }
}
