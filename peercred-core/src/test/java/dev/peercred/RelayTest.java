package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Relays between two socket pairs: {@code client} talks to {@code clientEnd}, which is relayed to
 * {@code serverEnd}, whose peer is {@code server}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RelayTest {
  private UnixConnection client;
  private UnixConnection clientEnd;
  private UnixConnection serverEnd;
  private UnixConnection server;

  @BeforeEach
  void pairs() throws IOException {
    ConnectionPair a = UnixConnection.pair();
    ConnectionPair b = UnixConnection.pair();
    client = a.first();
    clientEnd = a.second();
    serverEnd = b.first();
    server = b.second();
    client.setReadTimeout(Duration.ofSeconds(60));
    server.setReadTimeout(Duration.ofSeconds(60));
  }

  @AfterEach
  void close() {
    client.close();
    clientEnd.close();
    serverEnd.close();
    server.close();
  }

  private CompletableFuture<Relay.Result> relay(Relay.Inspector inspector) {
    CompletableFuture<Relay.Result> result = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                result.complete(Relay.between(clientEnd, serverEnd, inspector));
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    return result;
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void bytesAndHalfClosesCrossBothWays() throws Exception {
    CompletableFuture<Relay.Result> relay = relay(null);
    client.outputStream().write(bytes("ping\n"));
    assertArrayEquals(bytes("ping\n"), server.inputStream().readNBytes(5));
    server.outputStream().write(bytes("pong\n"));
    assertArrayEquals(bytes("pong\n"), client.inputStream().readNBytes(5));
    client.shutdownOutput();
    assertEquals(-1, server.inputStream().read()); // the client's end crossed
    server.outputStream().write(bytes("after\n")); // the other way still open
    assertArrayEquals(bytes("after\n"), client.inputStream().readNBytes(6));
    server.shutdownOutput();
    assertEquals(-1, client.inputStream().read());
    Relay.Result result = relay.get(60, TimeUnit.SECONDS);
    assertEquals(5, result.fromClient());
    assertEquals(11, result.fromServer());
    assertTrue(result.failure().isEmpty(), result.toString());
    assertFalse(result.stopped());
  }

  @Test
  void largeTransfersBothWaysAtOnceArriveWhole() throws Exception {
    CompletableFuture<Relay.Result> relay = relay(null);
    byte[] up = new byte[32 << 20];
    byte[] down = new byte[24 << 20];
    new Random(1).nextBytes(up);
    new Random(2).nextBytes(down);
    CompletableFuture<byte[]> atServer = readAll(server);
    CompletableFuture<byte[]> atClient = readAll(client);
    Thread.ofVirtual().start(() -> writeAndEnd(client, up));
    Thread.ofVirtual().start(() -> writeAndEnd(server, down));
    assertArrayEquals(digest(up), digest(atServer.get(60, TimeUnit.SECONDS)));
    assertArrayEquals(digest(down), digest(atClient.get(60, TimeUnit.SECONDS)));
    Relay.Result result = relay.get(60, TimeUnit.SECONDS);
    assertEquals(up.length, result.fromClient());
    assertEquals(down.length, result.fromServer());
  }

  private static CompletableFuture<byte[]> readAll(UnixConnection c) {
    CompletableFuture<byte[]> all = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                all.complete(c.inputStream().readAllBytes());
              } catch (IOException e) {
                all.completeExceptionally(e);
              }
            });
    return all;
  }

  private static void writeAndEnd(UnixConnection c, byte[] data) {
    try {
      c.outputStream().write(data);
      c.shutdownOutput();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static byte[] digest(byte[] data) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(data);
  }

  @Test
  void aServerThatAnswersAndClosesWithoutReadingStillDeliversItsAnswer() throws Exception {
    for (int i = 0; i < 200; i++) {
      if (i > 0) {
        close();
        pairs();
      }
      CompletableFuture<Relay.Result> relay = relay(null);
      client.outputStream().write(bytes("request\n"));
      server.outputStream().write(bytes("bye\n"));
      server.close(); // unread request: the relay's server end is reset after the answer
      assertArrayEquals(bytes("bye\n"), client.inputStream().readAllBytes(), "round " + i);
      client.close();
      relay.get(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void closingAnEndElsewhereEndsTheRelay() throws Exception {
    CompletableFuture<Relay.Result> relay = relay(null);
    client.outputStream().write(bytes("x"));
    assertEquals('x', server.inputStream().read()); // running
    clientEnd.close();
    Relay.Result result = relay.get(60, TimeUnit.SECONDS);
    assertTrue(result.failure().isPresent());
    assertEquals(-1, client.inputStream().read()); // the descriptor really was closed
  }

  @Test
  void interruptingTheWaitingThreadEndsTheRelayAndClosesBoth() throws Exception {
    CompletableFuture<Relay.Result> result = new CompletableFuture<>();
    Thread waiter =
        Thread.ofVirtual().start(() -> result.complete(Relay.between(clientEnd, serverEnd)));
    client.outputStream().write(bytes("x"));
    assertEquals('x', server.inputStream().read());
    waiter.interrupt();
    Relay.Result r = result.get(60, TimeUnit.SECONDS);
    assertTrue(r.failure().orElseThrow() instanceof java.nio.channels.ClosedByInterruptException);
    assertFalse(clientEnd.isOpen());
    assertFalse(serverEnd.isOpen());
  }

  /** Passes client lines through, answers "deny" lines itself, and stops at "stop". */
  private static final class LineInspector implements Relay.Inspector {
    @Override
    public void inspect(Relay.Side from, ByteBuffer bytes, Relay.Control control) {
      if (from == Relay.Side.SERVER) {
        control.pass(bytes.remaining());
        return;
      }
      int start = bytes.position();
      for (int i = start; i < bytes.limit(); i++) {
        if (bytes.get(i) != '\n') {
          continue;
        }
        String line = StandardCharsets.UTF_8.decode(bytes.slice(start, i - start)).toString();
        switch (line) {
          case "deny" -> {
            control.drop(i + 1 - start);
            control.send(Relay.Side.CLIENT, ByteBuffer.wrap(bytes("denied\n")));
          }
          case "stop" -> {
            control.stop();
            return;
          }
          case "hold" -> {
            control.drop(i + 1 - start);
            control.hold(Relay.Side.CLIENT);
            return;
          }
          case "open" -> {
            control.drop(i + 1 - start);
            control.passThrough();
            return;
          }
          case "finish" -> {
            control.drop(i + 1 - start);
            control.send(Relay.Side.CLIENT, ByteBuffer.wrap(bytes("goodbye\n")));
            control.finish();
            return;
          }
          default -> control.pass(i + 1 - start);
        }
        start = i + 1;
      }
    }
  }

  @Test
  void anInspectorPassesDropsAddsAndStops() throws Exception {
    CompletableFuture<Relay.Result> relay = relay(new LineInspector());
    client.outputStream().write(bytes("one\ndeny\ntw"));
    assertArrayEquals(bytes("one\n"), server.inputStream().readNBytes(4));
    assertArrayEquals(bytes("denied\n"), client.inputStream().readNBytes(7));
    client.outputStream().write(bytes("o\n")); // a line split across reads
    assertArrayEquals(bytes("two\n"), server.inputStream().readNBytes(4));
    client.outputStream().write(bytes("stop\nnever\n"));
    Relay.Result result = relay.get(60, TimeUnit.SECONDS);
    assertTrue(result.stopped());
    assertEquals(8, result.fromClient());
  }

  @Test
  void heldBytesWaitUntilTheServerSideResumesThem() throws Exception {
    Relay.Inspector inspector =
        new Relay.Inspector() {
          final LineInspector lines = new LineInspector();

          @Override
          public void inspect(Relay.Side from, ByteBuffer bytes, Relay.Control control) {
            if (from == Relay.Side.SERVER) {
              control.pass(bytes.remaining());
              control.resume(Relay.Side.CLIENT); // an answer releases the client
            } else {
              lines.inspect(from, bytes, control);
            }
          }
        };
    CompletableFuture<Relay.Result> relay = relay(inspector);
    client.outputStream().write(bytes("hold\nlater\n"));
    server.setReadTimeout(Duration.ofMillis(300));
    assertThrows(java.net.SocketTimeoutException.class, () -> server.inputStream().read());
    server.setReadTimeout(Duration.ofSeconds(60));
    server.outputStream().write(bytes("go\n"));
    assertArrayEquals(bytes("go\n"), client.inputStream().readNBytes(3));
    assertArrayEquals(bytes("later\n"), server.inputStream().readNBytes(6));
    client.outputStream().write(bytes("open\nraw bytes, not lines"));
    assertArrayEquals(bytes("raw bytes, not lines"), server.inputStream().readNBytes(20));
    client.close();
    server.close();
    relay.get(60, TimeUnit.SECONDS);
  }

  @Test
  void finishWritesWhatIsQueuedThenEndsBothSides() throws Exception {
    CompletableFuture<Relay.Result> relay = relay(new LineInspector());
    client.outputStream().write(bytes("a\nfinish\nignored\n"));
    assertArrayEquals(bytes("goodbye\n"), client.inputStream().readAllBytes());
    assertArrayEquals(bytes("a\n"), server.inputStream().readAllBytes());
    Relay.Result result = relay.get(60, TimeUnit.SECONDS);
    assertFalse(result.stopped());
  }

  @Test
  void manyShortRelaysLeaveNoDescriptorBehind() throws Exception {
    long before = openDescriptors();
    for (int i = 0; i < 2000; i++) {
      close();
      pairs();
      CompletableFuture<Relay.Result> relay = relay(null);
      client.outputStream().write(bytes("x"));
      client.shutdownOutput();
      assertEquals('x', server.inputStream().read());
      server.shutdownOutput();
      assertEquals(-1, client.inputStream().read());
      relay.get(60, TimeUnit.SECONDS);
    }
    close();
    pairs();
    assertTrue(
        openDescriptors() <= before + 4, "descriptors " + before + " -> " + openDescriptors());
  }

  /**
   * Relays that start together, many times over: a loop woken for one of them must not lose the
   * wake-up of another that arrives while it reads its wake-up socket, or every relay handed to
   * that loop once it is idle waits forever (seen as a proxy whose every other connection hung).
   */
  @Test
  void burstsOfRelaysStartingTogetherAreEachServed() throws Exception {
    int relays = 64;
    for (int round = 0; round < 200; round++) {
      List<ConnectionPair> ends = new ArrayList<>();
      List<CompletableFuture<Relay.Result>> results = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      try {
        for (int i = 0; i < relays; i++) {
          ConnectionPair a = UnixConnection.pair();
          ConnectionPair b = UnixConnection.pair();
          ends.add(a);
          ends.add(b);
          CompletableFuture<Relay.Result> result = new CompletableFuture<>();
          results.add(result);
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      start.await();
                      result.complete(Relay.between(a.second(), b.first()));
                    } catch (Throwable t) {
                      result.completeExceptionally(t);
                    }
                  });
          a.first().shutdownOutput(); // the relay has only to pass the ends on, both ways
          b.second().shutdownOutput();
        }
        start.countDown();
        for (int i = 0; i < relays; i++) {
          int which = i;
          Relay.Result result =
              assertTimeoutPreemptively(
                  Duration.ofSeconds(20),
                  () -> results.get(which).get(),
                  "round " + round + ": relay " + which + " was never served");
          assertTrue(result.failure().isEmpty(), result.toString());
        }
      } finally {
        ends.forEach(ConnectionPair::close);
      }
    }
  }

  private static long openDescriptors() throws IOException {
    try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  private static void assertThrows(Class<? extends Throwable> type, ThrowingRunnable run) {
    org.junit.jupiter.api.Assertions.assertThrows(type, run::run);
  }

  private interface ThrowingRunnable {
    void run() throws Throwable;
  }

  /**
   * A Unix-socket read stops at a message that carries descriptors, with bytes still queued behind
   * it and, when the edges merged, no new edge for them: the relay still delivers them (it takes a
   * short read as drained, and its sweep reads again, so such a message may wait a sweep interval).
   */
  @Test
  void bytesQueuedBehindMessagesCarryingDescriptorsStillCross(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "needs python3");
    String script =
        """
        import array, socket, sys
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sys.argv[1])
        print("connected", flush=True)
        sys.stdin.readline()
        for i in range(10):
            fds = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0]))]
            s.sendmsg([b"%02d" % i], fds)
            s.send(b".")
        s.recv(1)
        """;
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      expected.append(String.format("%02d.", i));
    }
    Path socket = dir.resolve("s");
    try (UnixListener listener = UnixListener.bind(socket);
        ChildProcess child =
            ChildProcess.start("/usr/bin/python3", "-c", script, socket.toString())) {
      child.awaitStdout("connected");
      try (UnixConnection accepted = listener.accept()) {
        CompletableFuture<Relay.Result> relay = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> relay.complete(Relay.between(accepted, serverEnd)));
        child.stdin().write(bytes("go\n"));
        child.stdin().flush();
        assertEquals(
            expected.toString(),
            new String(server.inputStream().readNBytes(30), StandardCharsets.US_ASCII));
        server.outputStream().write(bytes("x")); // the child ends, and so its direction
        server.shutdownOutput();
        assertTrue(relay.get().failure().isEmpty(), relay.get().toString());
      }
    }
  }
}
