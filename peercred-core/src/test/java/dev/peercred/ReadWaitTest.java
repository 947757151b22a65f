package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read that finds nothing first retries briefly, then parks: data arriving at any moment of that
 * wait is delivered, and a close at any moment of it wakes the reader.
 */
class ReadWaitTest {
  @TempDir Path dir;

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void readerGetsEveryReplyWhateverTheDelayBeforeIt() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      long[] delays = {0, 2_000, 10_000, 30_000, 200_000, 2_000_000};
      byte[] in = new byte[1];
      for (int i = 0; i < 600; i++) {
        long delay = delays[i % delays.length];
        CompletableFuture<Integer> read =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return client.readBytes(in, 0, 1);
                  } catch (IOException e) {
                    throw new RuntimeException(e);
                  }
                },
                r -> Thread.ofVirtual().start(r));
        LockSupport.parkNanos(delay);
        server.writeFully(new byte[] {(byte) i}, 0, 1);
        assertEquals(1, read.get(10, TimeUnit.SECONDS));
        assertArrayEquals(new byte[] {(byte) i}, in);
      }
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void closeWakesAReaderAtAnyMomentOfItsWait() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"))) {
      long[] delays = {0, 1_000, 5_000, 15_000, 40_000, 1_000_000};
      for (int i = 0; i < 300; i++) {
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        try (UnixConnection server = listener.accept()) {
          assertTrue(server.isOpen());
          CompletableFuture<Integer> read =
              CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return client.readBytes(new byte[8], 0, 8);
                    } catch (IOException e) {
                      throw new RuntimeException(e);
                    }
                  },
                  r -> Thread.ofVirtual().start(r));
          LockSupport.parkNanos(delays[i % delays.length]);
          client.close();
          ExecutionException failure =
              org.junit.jupiter.api.Assertions.assertThrows(
                  ExecutionException.class, () -> read.get(10, TimeUnit.SECONDS));
          Throwable cause = failure.getCause().getCause();
          assertInstanceOf(ClosedChannelException.class, cause, String.valueOf(cause));
        }
      }
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void idleReadersWaitWithoutBurningTheCpu() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"))) {
      int count = 50;
      UnixConnection[] clients = new UnixConnection[count];
      UnixConnection[] servers = new UnixConnection[count];
      Thread[] readers = new Thread[count];
      for (int i = 0; i < count; i++) {
        clients[i] = UnixConnection.connect(dir.resolve("s.sock"));
        servers[i] = listener.accept();
        UnixConnection c = clients[i];
        readers[i] =
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        c.readBytes(new byte[1], 0, 1);
                      } catch (IOException e) {
                        // closed at the end
                      }
                    });
      }
      Thread.sleep(200); // every reader is past its brief retry and parked
      long before = cpuNanos();
      Thread.sleep(500);
      long used = cpuNanos() - before;
      for (int i = 0; i < count; i++) {
        clients[i].close();
        servers[i].close();
        readers[i].join(10_000);
        assertTrue(!readers[i].isAlive(), "reader " + i + " still waits after close");
      }
      // Parked readers use no CPU; spinning ones would use about 500 ms of it.
      assertTrue(
          used < 250_000_000L, "CPU used by idle readers in 500 ms: " + used / 1_000_000 + " ms");
    }
  }

  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
  }
}
