package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.SocketException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peers that go away in the middle of a read or a write, or are killed with SIGKILL: the server
 * sees end of stream or a {@link SocketException} naming {@code EPIPE}/{@code ECONNRESET}, never a
 * signal, a hang or a crash.
 */
@Timeout(60)
class VanishingPeerTest {
  @TempDir Path dir;

  @Test
  void peerClosingMidReadGivesWhatWasSentThenEndOfStream() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      CompletableFuture<byte[]> read = readAllAsync(server);
      client.writeFully(new byte[] {'p', 'a', 'r'}, 0, 3);
      Thread.sleep(20);
      client.close();
      assertEquals("par", new String(read.get(10, TimeUnit.SECONDS)));
    }
  }

  @Test
  void peerClosingWithUnreadDataResetsTheConnection() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      server.writeFully(new byte[1000], 0, 1000); // never read by the client
      CompletableFuture<byte[]> read = readAllAsync(server);
      Thread.sleep(20);
      client.close();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> read.get(10, TimeUnit.SECONDS));
      assertSocketError(e.getCause(), "ECONNRESET");
    }
  }

  @Test
  void peerClosingMidWriteGivesBrokenPipeNotSignal() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      CompletableFuture<Void> write = writeForeverAsync(server);
      client.inputStream().readNBytes(100_000); // the server is writing
      client.close();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> write.get(10, TimeUnit.SECONDS));
      assertSocketError(e.getCause(), "EPIPE", "ECONNRESET");
      assertTrue(server.isOpen(), "an error from the peer does not close our side by itself");
      assertThrows(SocketException.class, () -> server.writeFully(new byte[1], 0, 1));
    }
  }

  @Test
  void peerKilledWhileServerWaitsToReadGivesEndOfStream() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"))) {
      Process child = Children.startJvm(ChildPeer.class, dir.resolve("s").toString(), "hold");
      try {
        assertTrue(Children.readLine(child).startsWith("connected"));
        try (UnixConnection server = listener.accept()) {
          assertEquals(child.pid(), server.peerCredentials().pid().orElseThrow());
          CompletableFuture<byte[]> read = readAllAsync(server);
          Thread.sleep(50);
          assertFalse(read.isDone());
          Children.kill(child);
          assertEquals(0, read.get(10, TimeUnit.SECONDS).length);
          // The credentials are a snapshot: they still name the process that is gone.
          assertEquals(child.pid(), server.peerCredentials().pid().orElseThrow());
          assertFalse(ProcessHandle.of(child.pid()).map(ProcessHandle::isAlive).orElse(false));
        }
      } finally {
        Children.kill(child);
      }
    }
  }

  @Test
  void peerKilledWhileServerIsBlockedWritingGivesBrokenPipe() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"))) {
      Process child = Children.startJvm(ChildPeer.class, dir.resolve("s").toString(), "hold");
      try {
        Children.readLine(child);
        try (UnixConnection server = listener.accept()) {
          CompletableFuture<Void> write = writeForeverAsync(server);
          Thread.sleep(200); // the child reads nothing: the send buffer fills and the write waits
          assertFalse(write.isDone());
          Children.kill(child);
          ExecutionException e =
              assertThrows(ExecutionException.class, () -> write.get(10, TimeUnit.SECONDS));
          assertSocketError(e.getCause(), "EPIPE", "ECONNRESET");
        }
      } finally {
        Children.kill(child);
      }
    }
  }

  @Test
  void peerKilledMidStreamWhileServerReadsEndsTheRead() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"))) {
      Process child = Children.startJvm(ChildPeer.class, dir.resolve("s").toString(), "write");
      try {
        Children.readLine(child);
        try (UnixConnection server = listener.accept()) {
          assertTrue(server.inputStream().readNBytes(1 << 20).length == 1 << 20);
          Children.kill(child);
          byte[] rest = server.inputStream().readAllBytes(); // what was in flight, then EOF
          assertTrue(rest.length >= 0);
          assertEquals(-1, server.inputStream().read());
        }
        // The listener is unaffected and accepts the next client.
        try (UnixConnection next = UnixConnection.connect(dir.resolve("s"));
            UnixConnection served = listener.accept()) {
          assertTrue(served.isOpen() && next.isOpen());
        }
      } finally {
        Children.kill(child);
      }
    }
  }

  private static void assertSocketError(Throwable t, String... errnoNames) {
    assertInstanceOf(SocketException.class, t);
    SystemCallError failed = assertInstanceOf(SystemCallError.class, t);
    assertTrue(List.of(errnoNames).contains(failed.errnoName()), String.valueOf(t));
    assertTrue(t.getMessage().contains(failed.errnoName()), t.getMessage());
  }

  private static CompletableFuture<byte[]> readAllAsync(UnixConnection connection) {
    CompletableFuture<byte[]> future = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                future.complete(connection.inputStream().readAllBytes());
              } catch (Throwable t) {
                future.completeExceptionally(t);
              }
            });
    return future;
  }

  private static CompletableFuture<Void> writeForeverAsync(UnixConnection connection) {
    CompletableFuture<Void> future = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              byte[] chunk = new byte[64 * 1024];
              try {
                while (true) {
                  connection.writeFully(chunk, 0, chunk.length);
                }
              } catch (Throwable t) {
                future.completeExceptionally(t);
              }
            });
    return future;
  }
}
