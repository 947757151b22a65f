package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Background;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import java.net.SocketException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that go away in the middle of a read or a write, or are killed with SIGKILL: the server
 * sees end of stream or a {@link SocketException} naming {@code EPIPE}/{@code ECONNRESET}, never a
 * signal, a hang or a crash.
 */
@Timeout(300)
class VanishingPeerTest {
  @TempDir Path dir;

  /** Where a read or write waits for the socket to become ready. */
  private static final String PARKED = "NativeSocket.await";

  @Test
  void peerClosingMidReadGivesWhatWasSentThenEndOfStream() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      Background<byte[]> read = readAllAsync(server).awaitBlockedIn(PARKED);
      client.writeFully(new byte[] {'p', 'a', 'r'}, 0, 3);
      client.close();
      assertEquals("par", new String(read.get()));
    }
  }

  @Test
  void peerClosingWithUnreadDataResetsTheConnection() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      server.writeFully(new byte[1000], 0, 1000); // never read by the client
      Background<byte[]> read = readAllAsync(server).awaitBlockedIn(PARKED);
      client.close();
      assertSocketError(read.failure(), "ECONNRESET");
    }
  }

  @Test
  void peerClosingMidWriteGivesBrokenPipeNotSignal() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      Background<Void> write = writeForeverAsync(server);
      client.inputStream().readNBytes(100_000); // the server is writing
      client.close();
      assertSocketError(write.failure(), "EPIPE", "ECONNRESET");
      assertTrue(server.isOpen(), "an error from the peer does not close our side by itself");
      assertThrows(SocketException.class, () -> server.writeFully(new byte[1], 0, 1));
    }
  }

  private static ChildProcess startPeer(Path socket, String mode) throws Exception {
    ChildProcess child =
        ChildProcess.start(
            JavaCommand.main(ChildPeer.class).args(socket.toString(), mode).toList());
    child.awaitStdout("connected");
    return child;
  }

  @Test
  void peerKilledWhileServerWaitsToReadGivesEndOfStream() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        ChildProcess child = startPeer(dir.resolve("s"), "hold");
        UnixConnection server = listener.accept()) {
      assertEquals(child.pid(), server.peerCredentials().pid().orElseThrow());
      Background<byte[]> read = readAllAsync(server).awaitBlockedIn(PARKED);
      child.close(); // SIGKILL, and waits for the exit
      assertEquals(0, read.get().length);
      // The credentials are a snapshot: they still name the process that is gone.
      assertEquals(child.pid(), server.peerCredentials().pid().orElseThrow());
      assertFalse(ProcessHandle.of(child.pid()).map(ProcessHandle::isAlive).orElse(false));
    }
  }

  @Test
  void peerKilledWhileServerIsBlockedWritingGivesBrokenPipe() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        ChildProcess child = startPeer(dir.resolve("s"), "hold");
        UnixConnection server = listener.accept()) {
      // The child reads nothing: once the buffers are full the write waits.
      Background<Void> write = writeForeverAsync(server).awaitBlockedIn(PARKED);
      child.close();
      assertSocketError(write.failure(), "EPIPE", "ECONNRESET");
    }
  }

  @Test
  void peerKilledMidStreamWhileServerReadsEndsTheRead() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"))) {
      try (ChildProcess child = startPeer(dir.resolve("s"), "write");
          UnixConnection server = listener.accept()) {
        assertTrue(server.inputStream().readNBytes(1 << 20).length == 1 << 20);
        child.close();
        byte[] rest = server.inputStream().readAllBytes(); // what was in flight, then EOF
        assertTrue(rest.length >= 0);
        assertEquals(-1, server.inputStream().read());
      }
      // The listener is unaffected and accepts the next client.
      try (UnixConnection next = UnixConnection.connect(dir.resolve("s"));
          UnixConnection served = listener.accept()) {
        assertTrue(served.isOpen() && next.isOpen());
      }
    }
  }

  private static void assertSocketError(Throwable t, String... errnoNames) {
    assertInstanceOf(SocketException.class, t);
    SystemCallError failed = assertInstanceOf(SystemCallError.class, t);
    assertTrue(java.util.List.of(errnoNames).contains(failed.errnoName()), String.valueOf(t));
    assertTrue(t.getMessage().contains(failed.errnoName()), t.getMessage());
  }

  private static Background<byte[]> readAllAsync(UnixConnection connection) {
    return Background.virtual(() -> connection.inputStream().readAllBytes());
  }

  private static Background<Void> writeForeverAsync(UnixConnection connection) {
    return Background.virtual(
        () -> {
          byte[] chunk = new byte[64 * 1024];
          while (true) {
            connection.writeFully(chunk, 0, chunk.length);
          }
        });
  }
}
