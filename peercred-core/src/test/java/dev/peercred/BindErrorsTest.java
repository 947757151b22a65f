package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class BindErrorsTest {
  @TempDir Path dir;

  @Test
  void aPathLongerThanSunPathIsRejectedBeforeAnySyscall() {
    Path longPath = dir.resolve("x".repeat(120) + ".sock");
    var e = assertThrows(IllegalArgumentException.class, () -> UnixListener.bind(longPath));
    assertTrue(e.getMessage().contains("107"), e.getMessage());
    assertTrue(e.getMessage().contains(longPath.toString()), e.getMessage());
    assertTrue(Files.notExists(longPath));
  }

  @Test
  void aPathWithANulCharacterIsRejected() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> UnixSocketAddress.parse("/tmp/a\0b.sock"));
    assertEquals("socket path contains a NUL character at index 6", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> UnixSocketAddress.ofAbstract("a\0b"));
  }

  @Test
  void emptyAndNullAddressesAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> UnixSocketAddress.parse(""));
    assertThrows(IllegalArgumentException.class, () -> UnixSocketAddress.of(Path.of("")));
    assertThrows(NullPointerException.class, () -> UnixListener.bind((Path) null));
    assertThrows(NullPointerException.class, () -> UnixConnection.connect((Path) null));
    assertThrows(IllegalArgumentException.class, () -> ListenerOptions.defaults().withBacklog(0));
  }

  @Test
  void aMissingDirectoryGivesABindExceptionNamingThePathAndErrno() {
    Path path = dir.resolve("no/such/dir/s.sock");
    var e = assertThrows(BindException.class, () -> UnixListener.bind(path));
    assertTrue(e.getMessage().contains("ENOENT"), e.getMessage());
    assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
  }

  @Test
  void aLiveServerKeepsItsSocketAndTheSecondBindFailsWithAddressInUse() throws Exception {
    Path path = dir.resolve("s.sock");
    try (UnixListener live = UnixListener.bind(path)) {
      var e = assertThrows(AddressInUseException.class, () -> UnixListener.bind(path));
      assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
      assertEquals(UnixSocketAddress.of(path), e.address());
      assertTrue(e instanceof BindException);
      try (UnixConnection client = UnixConnection.connect(path);
          UnixConnection accepted = live.accept()) {
        assertEquals(PeerCredentials.ofCurrentProcess(), accepted.peerCredentials());
      }
    }
  }

  @Test
  void aStaleSocketLeftByADeadServerIsReplaced() throws Exception {
    Path path = dir.resolve("s.sock");
    UnixListener dead =
        UnixListener.bind(path, ListenerOptions.defaults().withRemoveOnClose(false));
    dead.close();
    assertTrue(Files.exists(path), "the stale socket file is still there");
    try (UnixListener fresh = UnixListener.bind(path);
        UnixConnection client = UnixConnection.connect(path);
        UnixConnection accepted = fresh.accept()) {
      assertEquals(PeerCredentials.ofCurrentProcess(), accepted.peerCredentials());
    }
    assertTrue(Files.notExists(path), "close removes the socket file it created");
  }

  @Test
  void aRegularFileInTheWayIsNeverDeleted() throws Exception {
    Path path = dir.resolve("important.txt");
    Files.writeString(path, "keep me");
    var e = assertThrows(BindException.class, () -> UnixListener.bind(path));
    assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
    assertEquals("keep me", Files.readString(path));
  }

  @Test
  void connectingWhereNothingListensGivesConnectException() throws Exception {
    var e =
        assertThrows(
            ConnectException.class, () -> UnixConnection.connect(dir.resolve("none.sock")));
    assertTrue(e.getMessage().contains("ENOENT"), e.getMessage());
    UnixListener.bind(
            dir.resolve("stale.sock"), ListenerOptions.defaults().withRemoveOnClose(false))
        .close();
    var refused =
        assertThrows(
            ConnectException.class, () -> UnixConnection.connect(dir.resolve("stale.sock")));
    assertTrue(refused.getMessage().contains("ECONNREFUSED"), refused.getMessage());
  }

  @Test
  void relativePathsAreResolvedAgainstTheWorkingDirectory() {
    UnixSocketAddress address = UnixSocketAddress.of(Path.of("relative.sock"));
    assertEquals(Path.of("relative.sock").toAbsolutePath(), address.path().orElseThrow());
  }
}
