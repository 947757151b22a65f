package dev.peercred;

import static dev.peercred.CredentialFaultInjectionTest.acceptAsync;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Await;
import dev.peercred.testing.Descriptors;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Closes listeners and connections while other threads accept, read and write on them, many times,
 * and checks that every blocked thread wakes with a {@link ClosedChannelException}, that the
 * descriptor really is closed, and that no late system call lands on the new socket that reuses its
 * number: right after each close, fresh sockets are opened (taking the freed number) and must carry
 * exactly the bytes written to them, while the racing threads are still winding down.
 *
 * <p>Each case runs at least {@value #MIN_ITERATIONS} iterations however long they take (and on
 * until a closed descriptor's number has been seen reused), then more while time is left ({@code
 * peercred.stress.seconds}, default 3 per case), at most {@value #MAX_ITERATIONS}: a busy machine
 * makes it slower, never weaker.
 */
@Timeout(300)
class ConcurrentCloseStressTest {
  private static final long SECONDS = Long.getLong("peercred.stress.seconds", 3);
  private static final int MIN_ITERATIONS = 20;
  private static final int MAX_ITERATIONS = 2000;
  private static final byte STRAY = (byte) 0xAB;

  @TempDir Path dir;

  @ParameterizedTest(name = "virtual threads: {0}")
  @ValueSource(booleans = {true, false})
  void closeWhileReadingAndWritingNeverTouchesAReusedDescriptor(boolean virtual) throws Exception {
    var baseline = DescriptorBaseline.take();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    int iterations = 0;
    int reused = 0;
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"))) {
      while (iterations < MAX_ITERATIONS
          && (iterations < MIN_ITERATIONS || reused == 0 || System.nanoTime() - deadline < 0)) {
        iterations++;
        UnixConnection peer = UnixConnection.connect(dir.resolve("s"));
        UnixConnection victim = listener.accept();
        int victimFd = DescriptorBaseline.fdOf(victim);
        CompletableFuture<Object> reader =
            start(virtual, () -> victim.inputStream().read(new byte[64]));
        CompletableFuture<Object> writer =
            start(
                virtual,
                () -> {
                  byte[] stray = new byte[32 * 1024];
                  Arrays.fill(stray, STRAY);
                  while (true) {
                    victim.writeFully(stray, 0, stray.length);
                  }
                });
        spin(ThreadLocalRandom.current().nextInt(2000));
        victim.close();

        // New sockets, opened while the racing threads may still be in flight.
        try (UnixConnection a = UnixConnection.connect(dir.resolve("s"));
            UnixConnection b = listener.accept()) {
          if (DescriptorBaseline.fdOf(a) == victimFd || DescriptorBaseline.fdOf(b) == victimFd) {
            reused++;
          }
          byte[] toA = ("to a " + iterations).getBytes();
          byte[] toB = ("to b " + iterations).getBytes();
          b.writeFully(toA, 0, toA.length);
          b.shutdownOutput();
          a.writeFully(toB, 0, toB.length);
          a.shutdownOutput();
          assertArrayEquals(toA, a.inputStream().readAllBytes(), "stray bytes on a reused fd");
          assertArrayEquals(toB, b.inputStream().readAllBytes(), "stray bytes on a reused fd");
        }
        assertEndedByClose(reader);
        assertEndedByClose(writer);
        // The victim's descriptor is really closed: its peer reads the stray bytes, then EOF.
        byte[] rest = peer.inputStream().readAllBytes();
        for (byte x : rest) {
          assertEquals(STRAY, x);
        }
        peer.close();
      }
    }
    assertTrue(reused > 0, "no iteration reused the closed descriptor's number; the check is void");
    System.out.printf(
        "close-while-reading/writing: %d iterations, fd reused in %d%n", iterations, reused);
    Descriptors.awaitBackTo(baseline);
  }

  @ParameterizedTest(name = "virtual threads: {0}")
  @ValueSource(booleans = {true, false})
  void closeWhileAcceptingWakesTheAcceptorAndNeverAcceptsOnAReusedDescriptor(boolean virtual)
      throws Exception {
    var baseline = DescriptorBaseline.take();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
    int iterations = 0;
    AtomicLong acceptedBeforeClose = new AtomicLong();
    while (iterations < MAX_ITERATIONS
        && (iterations < MIN_ITERATIONS || System.nanoTime() - deadline < 0)) {
      iterations++;
      Path path = dir.resolve("l" + (iterations % 2));
      UnixListener old = UnixListener.bind(path);
      CompletableFuture<Object> acceptor = start(virtual, old::accept);
      boolean racingClient = iterations % 3 == 0;
      UnixConnection early = racingClient ? UnixConnection.connect(path) : null;
      spin(ThreadLocalRandom.current().nextInt(2000));
      old.close();

      Path next = dir.resolve("l" + ((iterations + 1) % 2));
      try (UnixListener fresh = UnixListener.bind(next);
          UnixConnection client = UnixConnection.connect(next)) {
        CompletableFuture<UnixConnection> accepted = acceptAsync(fresh);
        try (UnixConnection served = accepted.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          served.writeFully(new byte[] {42}, 0, 1);
          assertEquals(42, client.inputStream().read(), "the fresh listener lost its client");
        }
      }
      Object result = acceptor.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (result instanceof UnixConnection c) {
        acceptedBeforeClose.incrementAndGet(); // the early client won the race: fine
        c.close();
      } else {
        assertInstanceOf(ClosedChannelException.class, result, String.valueOf(result));
      }
      if (early != null) {
        early.close();
      }
    }
    System.out.printf(
        "close-while-accepting: %d iterations, %d accepted before close%n",
        iterations, acceptedBeforeClose.get());
    Descriptors.awaitBackTo(baseline);
  }

  private static void assertEndedByClose(CompletableFuture<Object> task) throws Exception {
    Object result = task.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS); // never a hang
    if (result instanceof Throwable t) {
      assertInstanceOf(ClosedChannelException.class, t, t.toString());
    }
  }

  interface Action {
    Object run() throws Exception;
  }

  /** Runs {@code action}; the future holds its result or what it threw (never fails). */
  private static CompletableFuture<Object> start(boolean virtual, Action action) {
    CompletableFuture<Object> future = new CompletableFuture<>();
    Runnable body =
        () -> {
          try {
            future.complete(action.run());
          } catch (Throwable t) {
            future.complete(t);
          }
        };
    if (virtual) {
      Thread.ofVirtual().start(body);
    } else {
      Thread.ofPlatform().daemon().start(body);
    }
    return future;
  }

  private static void spin(int micros) {
    long end = System.nanoTime() + micros * 1000L;
    while (System.nanoTime() - end < 0) {
      Thread.onSpinWait();
    }
  }
}
