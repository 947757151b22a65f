package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read and write timeouts bound what an idle peer, or one that never reads, can cost: the waiting
 * thread gets a {@link SocketTimeoutException} and the connection can still be closed cleanly.
 */
@Timeout(30)
class SlowPeerTimeoutTest {
  @TempDir Path dir;

  @Test
  void writeTimeoutEndsAWriteToAPeerThatNeverReads() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      server.setWriteTimeout(Duration.ofMillis(200));
      byte[] big = new byte[16 << 20]; // far more than the socket buffers hold
      long start = System.nanoTime();
      SocketTimeoutException e =
          assertThrows(SocketTimeoutException.class, () -> server.writeFully(big, 0, big.length));
      assertTrue(e.getMessage().contains("write"), e.getMessage());
      assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10));
      assertTrue(server.isOpen());
      // The write timeout is per wait for progress: the same holds for the channel form.
      assertThrows(
          SocketTimeoutException.class, () -> server.write(java.nio.ByteBuffer.allocate(1 << 20)));
    }
  }

  @Test
  void writeTimeoutDoesNotCutOffAPeerThatReadsSlowlyButSteadily() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      server.setWriteTimeout(Duration.ofMillis(500));
      byte[] data = new byte[1 << 20];
      new java.util.Random(1).nextBytes(data);
      CompletableFuture<byte[]> slowReader = new CompletableFuture<>();
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  ByteArrayOutputStream got = new ByteArrayOutputStream();
                  byte[] chunk = new byte[64 * 1024];
                  int n;
                  while ((n = client.inputStream().read(chunk)) > 0) {
                    got.write(chunk, 0, n);
                    Thread.sleep(20);
                  }
                  slowReader.complete(got.toByteArray());
                } catch (Throwable t) {
                  slowReader.completeExceptionally(t);
                }
              });
      server.writeFully(data, 0, data.length);
      server.shutdownOutput();
      assertArrayEquals(data, slowReader.get(20, TimeUnit.SECONDS));
    }
  }

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
