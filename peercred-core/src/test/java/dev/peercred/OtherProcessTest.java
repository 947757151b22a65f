package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Users;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Credentials of clients in other processes, running as other users. */
@Timeout(300)
class OtherProcessTest {
  @TempDir Path dir;

  private PeerCredentials acceptFrom(List<String> prefix, long expectedUid) throws Exception {
    Path socket = dir.resolve("s.sock");
    try (UnixListener listener = UnixListener.bind(socket)) {
      Users.openToEveryone(dir);
      Users.openToEveryone(socket);
      List<String> command =
          JavaCommand.main(LineClient.class)
              .classPath(Users.readableClassPath(dir.resolve("cp")))
              .args(socket.toString(), "hi")
              .toList(prefix);
      try (ChildProcess client = ChildProcess.start(command);
          UnixConnection connection = listener.accept()) {
        PeerCredentials peer = connection.peerCredentials();
        connection.outputStream().write("ok\n".getBytes(StandardCharsets.UTF_8));
        connection.shutdownOutput();
        connection.inputStream().readAllBytes();
        String out = client.assertExit(0).stdout();
        assertEquals(OptionalLong.of(client.pid()), peer.pid(), "pid is the client process's");
        assertTrue(out.contains("pid " + client.pid()), out);
        assertTrue(
            out.contains("server " + PeerCredentials.ofCurrentProcess()),
            "the client sees the server's credentials: " + out);
        assertEquals(expectedUid, peer.uid());
        return peer;
      }
    }
  }

  @Test
  void aClientProcessIsIdentifiedByItsOwnPid() throws Exception {
    PeerCredentials self = PeerCredentials.ofCurrentProcess();
    PeerCredentials peer = acceptFrom(List.of(), self.uid());
    assertEquals(self.gid(), peer.gid());
  }

  @Test
  void aClientRunningAsAnotherUserShowsThatUsersIds() throws Exception {
    PeerCredentials peer = acceptFrom(Users.as(Users.NOBODY, Users.NOBODY), Users.NOBODY);
    assertEquals(Users.NOBODY, peer.gid());
    assertTrue(peer.isUidMapped(), "in the initial user namespace 65534 is a real uid");
    assertTrue(peer.hasUid(Users.NOBODY));
  }

  @Test
  void idsAboveTwoToThe31StayPositive() throws Exception {
    long big = 3_000_000_000L;
    PeerCredentials peer = acceptFrom(Users.as(big, big + 1), big);
    assertEquals(big + 1, peer.gid());
  }
}
