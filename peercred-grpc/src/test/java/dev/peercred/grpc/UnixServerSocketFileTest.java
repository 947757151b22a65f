package dev.peercred.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.AddressInUseException;
import dev.peercred.ListenerOptions;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import io.grpc.Server;
import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link UnixServerBuilder}'s server does about the file at its path on {@code start()}, which
 * it decides with {@link dev.peercred.SocketFile} as {@link UnixListener} does: a dead server's
 * socket is replaced, a live server's is kept ({@link AddressInUseException}), and anything that is
 * not a socket is never deleted ({@link BindException} naming what it is).
 */
@Timeout(60)
class UnixServerSocketFileTest {
  @TempDir Path dir;

  private static Server start(Path socket) throws IOException {
    return UnixServerBuilder.forPath(socket).build().start();
  }

  private static void stop(Server server) throws InterruptedException {
    server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
  }

  @Test
  void aDeadServersSocketIsReplaced() throws Exception {
    Path socket = dir.resolve("stale.sock");
    UnixListener.bind(socket, ListenerOptions.defaults().withRemoveOnClose(false)).close();
    Server server = start(socket);
    try (UnixConnection client = UnixConnection.connect(socket)) {
      assertTrue(client.isOpen());
    } finally {
      stop(server);
    }
  }

  @Test
  void aLiveServersSocketIsKept() throws Exception {
    Path socket = dir.resolve("live.sock");
    try (UnixListener live = UnixListener.bind(socket)) {
      Object inode = Files.getAttribute(socket, "unix:ino", LinkOption.NOFOLLOW_LINKS);
      var e = assertThrows(AddressInUseException.class, () -> start(socket));
      assertTrue(e.getMessage().contains(socket.toString()), e.getMessage());
      assertEquals(inode, Files.getAttribute(socket, "unix:ino", LinkOption.NOFOLLOW_LINKS));
      try (UnixConnection client = UnixConnection.connect(socket);
          UnixConnection accepted = live.accept()) {
        assertTrue(accepted.isOpen());
      }
    }
  }

  @Test
  void aRegularFileInTheWayIsNeverDeleted() throws Exception {
    Path socket = dir.resolve("data.sock");
    Files.writeString(socket, "keep me");
    var e = assertThrows(BindException.class, () -> start(socket));
    assertTrue(e.getMessage().contains("regular file"), e.getMessage());
    assertEquals("keep me", Files.readString(socket));
  }

  @Test
  void aFifoInTheWayIsNeverDeleted() throws Exception {
    Path fifo = dir.resolve("fifo.sock");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertEquals(0, mkfifo.waitFor(), "mkfifo failed");
    var e = assertThrows(BindException.class, () -> start(fifo));
    assertTrue(e.getMessage().contains("FIFO"), e.getMessage());
    assertEquals(
        0010000, // S_IFIFO: still there, still a FIFO
        (Integer) Files.getAttribute(fifo, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 0170000,
        "the FIFO was deleted");
  }
}
