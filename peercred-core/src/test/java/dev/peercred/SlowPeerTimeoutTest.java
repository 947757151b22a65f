package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Await;
import dev.peercred.testing.Background;
import java.io.ByteArrayOutputStream;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read and write timeouts bound what an idle peer, or one that never reads, can cost: the waiting
 * thread gets a {@link SocketTimeoutException} and the connection can still be closed cleanly.
 */
@Timeout(120)
class SlowPeerTimeoutTest {
  @TempDir Path dir;

  @Test
  void writeTimeoutEndsAWriteToAPeerThatNeverReads() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      server.setWriteTimeout(Duration.ofMillis(200));
      byte[] big = new byte[16 << 20]; // far more than the socket buffers hold
      SocketTimeoutException e =
          assertThrows(SocketTimeoutException.class, () -> server.writeFully(big, 0, big.length));
      assertTrue(e.getMessage().contains("write"), e.getMessage());
      assertTrue(server.isOpen());
      // The write timeout is per wait for progress: the same holds for the channel form.
      assertThrows(
          SocketTimeoutException.class, () -> server.write(java.nio.ByteBuffer.allocate(1 << 20)));
    }
  }

  /**
   * The reader takes a chunk only once the writer waits for room, and only after a pause: so the
   * write waits again and again, {@value #CHUNKS} times or so, and takes several times the write
   * timeout in all, yet each wait lasts only about one pause, a tenth of the timeout.
   */
  @Test
  void writeTimeoutDoesNotCutOffAPeerThatReadsSlowlyButSteadily() throws Exception {
    Duration timeout = Duration.ofSeconds(3);
    Duration pause = timeout.dividedBy(10);
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      server.setWriteTimeout(timeout);
      byte[] data = new byte[CHUNKS * CHUNK];
      new java.util.Random(1).nextBytes(data);
      Thread writer = Thread.currentThread();
      java.util.concurrent.atomic.AtomicBoolean written =
          new java.util.concurrent.atomic.AtomicBoolean();
      Background<byte[]> slowReader =
          Background.virtual(
              () -> {
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                byte[] chunk = new byte[CHUNK];
                int n;
                do {
                  Await.until(
                      "the writer to wait for room, or to finish",
                      () -> written.get() || Await.isBlockedIn(writer, "NativeSocket.await"));
                  if (!written.get()) {
                    // A slow peer: the pause is the behaviour under test, not a wait for anything.
                    TimeUnit.NANOSECONDS.sleep(pause.toNanos());
                  }
                  n = client.inputStream().read(chunk);
                  if (n > 0) {
                    got.write(chunk, 0, n);
                  }
                } while (n > 0);
                return got.toByteArray();
              });
      server.writeFully(data, 0, data.length);
      written.set(true);
      server.shutdownOutput();
      assertArrayEquals(data, slowReader.get());
    }
  }

  private static final int CHUNK = 64 * 1024;
  private static final int CHUNKS = 16;

  @Test
  void readTimeoutEndsAWaitForAPeerThatNeverSends() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      server.setReadTimeout(Duration.ofMillis(100));
      assertThrows(SocketTimeoutException.class, () -> server.inputStream().read());
      client.writeFully(new byte[] {5}, 0, 1);
      assertEquals(5, server.inputStream().read(), "usable after a timeout");
    }
  }
}
