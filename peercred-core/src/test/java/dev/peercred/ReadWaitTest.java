package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Await;
import dev.peercred.testing.CpuTime;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
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
        // Not a wait for anything: the reply comes at a different moment of the read's wait each
        // time (during its retry, just after it parked, long after), and must arrive every time.
        LockSupport.parkNanos(delay);
        server.writeFully(new byte[] {(byte) i}, 0, 1);
        assertEquals(1, read.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertArrayEquals(new byte[] {(byte) i}, in);
      }
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
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
          // Not a wait for anything: the close comes at a different moment of the read's wait.
          LockSupport.parkNanos(delays[i % delays.length]);
          client.close();
          ExecutionException failure =
              org.junit.jupiter.api.Assertions.assertThrows(
                  ExecutionException.class,
                  () -> read.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
          Throwable cause = failure.getCause().getCause();
          assertInstanceOf(ClosedChannelException.class, cause, String.valueOf(cause));
        }
      }
    }
  }

  /** The threads that run virtual threads and the pollers: where a spinning reader burns CPU. */
  private static Duration carriersAndPollers() throws java.io.IOException {
    return CpuTime.ofThreads("ForkJoinPool", "peercred-");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void idleReadersWaitWithoutBurningTheCpu() throws Exception {
    Duration window = Duration.ofMillis(500);
    // The same threads over the same window with no reader at all: what "idle" costs here.
    Duration baseline = CpuTime.usedOver(window, ReadWaitTest::carriersAndPollers);
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"))) {
      int count = 50;
      UnixConnection[] clients = new UnixConnection[count];
      UnixConnection[] servers = new UnixConnection[count];
      List<Thread> readers = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        clients[i] = UnixConnection.connect(dir.resolve("s.sock"));
        servers[i] = listener.accept();
        UnixConnection c = clients[i];
        readers.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        c.readBytes(new byte[1], 0, 1);
                      } catch (IOException e) {
                        // closed at the end
                      }
                    }));
      }
      // Every reader is past its brief retry and parked.
      Await.blocked(readers, "NativeSocket.await");
      Duration used = CpuTime.usedOver(window, ReadWaitTest::carriersAndPollers);
      for (Thread reader : readers) {
        assertTrue(Await.isBlockedIn(reader, "NativeSocket.await"), reader + " woke up");
      }
      for (int i = 0; i < count; i++) {
        clients[i].close();
        servers[i].close();
        assertTrue(readers.get(i).join(Await.TIMEOUT), "reader " + i + " still waits after close");
      }
      // Parked readers use no CPU: the carriers and pollers cost what they cost without them. A
      // reader that spun instead of parking would use most of the window whenever it got a CPU.
      System.out.printf(
          "carrier and poller CPU over %d ms: %d ms idle, %d ms with %d parked readers%n",
          window.toMillis(), baseline.toMillis(), used.toMillis(), count);
      assertTrue(
          used.minus(baseline).compareTo(Duration.ofMillis(100)) < 0,
          "CPU used by idle readers in "
              + window.toMillis()
              + " ms: "
              + used.toMillis()
              + " ms, against "
              + baseline.toMillis()
              + " ms with none");
    }
  }
}
