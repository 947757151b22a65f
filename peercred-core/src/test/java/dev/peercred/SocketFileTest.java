package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SocketFile} on its own: which files at a path are stale sockets to remove, which are a
 * live server's, which are not sockets at all, and which are no longer the file that was bound.
 * {@code SocketLifecycleTest} covers the same through {@link UnixListener}, and peercred-grpc's
 * {@code UnixServerSocketFileTest} through its server.
 */
@Timeout(30)
class SocketFileTest {
  @TempDir Path dir;

  private static boolean exists(Path path) {
    return Files.exists(path, LinkOption.NOFOLLOW_LINKS);
  }

  private static Path staleSocket(Path path) throws Exception {
    UnixListener.bind(path, ListenerOptions.defaults().withRemoveOnClose(false)).close();
    assertTrue(exists(path));
    return path;
  }

  @Test
  void aStaleSocketIsRemovedAndNothingIsNothing() throws Exception {
    Path path = staleSocket(dir.resolve("stale.sock"));
    assertTrue(SocketFile.removeIfStale(path));
    assertFalse(exists(path));
    assertFalse(SocketFile.removeIfStale(path));
  }

  @Test
  void aLiveServersSocketIsKept() throws Exception {
    Path path = dir.resolve("live.sock");
    try (UnixListener live = UnixListener.bind(path)) {
      var e = assertThrows(AddressInUseException.class, () -> SocketFile.removeIfStale(path));
      assertEquals(UnixSocketAddress.of(path), e.address());
      assertTrue(exists(path));
    }
  }

  @Test
  void whatIsNotASocketIsNamedAndLeftUntouched() throws Exception {
    Path file = Files.writeString(dir.resolve("file"), "precious");
    Path directory = Files.createDirectory(dir.resolve("directory"));
    Path link = Files.createSymbolicLink(dir.resolve("link"), staleSocket(dir.resolve("target")));
    Path fifo = dir.resolve("fifo");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
    for (var expected :
        java.util.Map.of(
                file, "regular file", directory, "directory", link, "symbolic link", fifo, "FIFO")
            .entrySet()) {
      var e = assertThrows(BindException.class, () -> SocketFile.removeIfStale(expected.getKey()));
      assertFalse(e instanceof AddressInUseException);
      assertTrue(
          e.getMessage().contains("a " + expected.getValue() + " that is not a socket"),
          e.getMessage());
      assertTrue(exists(expected.getKey()));
    }
    assertEquals("precious", Files.readString(file));
    assertTrue(exists(dir.resolve("target")), "the link's target was followed");
  }

  @Test
  void onlyTheFileThatWasBoundIsDeleted() throws Exception {
    Path path = dir.resolve("s.sock");
    // While the bound socket is open its inode stays allocated, so no newer file can reuse the
    // number: the case of a server that checks its file before it closes.
    try (UnixListener bound =
        UnixListener.bind(path, ListenerOptions.defaults().withRemoveOnClose(false))) {
      SocketFile file = SocketFile.of(path);
      assertEquals(path, file.path());

      Files.delete(path);
      try (UnixListener newer = UnixListener.bind(path)) {
        assertFalse(file.deleteIfUnchanged(), "another server's socket at the same path");
        assertTrue(exists(path));
      }
      Files.writeString(path, "moved over it");
      assertFalse(file.deleteIfUnchanged());
      assertEquals("moved over it", Files.readString(path));

      Files.delete(path);
      assertFalse(file.deleteIfUnchanged(), "nothing there");
      assertThrows(NoSuchFileException.class, () -> SocketFile.of(path));
    }
    SocketFile unchanged = SocketFile.of(staleSocket(path));
    assertTrue(unchanged.deleteIfUnchanged());
    assertFalse(exists(path));
  }
}
