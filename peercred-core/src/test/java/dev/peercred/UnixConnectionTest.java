package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Await;
import dev.peercred.testing.Background;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(120)
class UnixConnectionTest {
  @TempDir Path dir;

  @Test
  void acceptReadsTheClientsCredentialsBeforeReturning() throws Exception {
    PeerCredentials self = PeerCredentials.ofCurrentProcess();
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      assertEquals(OptionalLong.of(ProcessHandle.current().pid()), server.peerCredentials().pid());
      assertEquals(self, server.peerCredentials());
      assertEquals(self, client.peerCredentials(), "the client sees the server's credentials");
      assertTrue(server.peerCredentials().isUidMapped());
    }
  }

  @Test
  void credentialsMatchWhatProcStatusSaysAboutThisProcess() throws Exception {
    // /proc/self/status: "Uid:\treal\teffective\tsaved\tfs" and the same for Gid.
    var status = java.nio.file.Files.readAllLines(Path.of("/proc/self/status"));
    long euid = field(status, "Uid:");
    long egid = field(status, "Gid:");
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      assertEquals(euid, server.peerCredentials().uid());
      assertEquals(egid, server.peerCredentials().gid());
    }
  }

  private static long field(java.util.List<String> status, String key) {
    return status.stream()
        .filter(line -> line.startsWith(key))
        .map(line -> Long.parseLong(line.split("\\s+")[2]))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void streamsCarryBytesBothWaysAndHalfCloseEndsOneDirection() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      client.outputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
      client.shutdownOutput();
      assertArrayEquals(
          "hello\n".getBytes(StandardCharsets.UTF_8), server.inputStream().readAllBytes());
      server.outputStream().write("still open\n".getBytes(StandardCharsets.UTF_8));
      server.close();
      assertEquals(
          "still open\n", new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  @Test
  void byteChannelViewReadsAndWritesBuffers() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      ByteBuffer direct = ByteBuffer.allocateDirect(3).put(new byte[] {1, 2, 3}).flip();
      assertEquals(3, client.write(direct));
      ByteBuffer heap = ByteBuffer.allocate(2).put(new byte[] {4, 5}).flip();
      assertEquals(2, client.write(heap));
      client.shutdownOutput();
      ByteBuffer in = ByteBuffer.allocate(16);
      while (server.read(in) >= 0) {}
      assertArrayEquals(
          new byte[] {1, 2, 3, 4, 5}, java.util.Arrays.copyOf(in.array(), in.position()));
      assertThrows(
          IllegalArgumentException.class,
          () -> server.read(ByteBuffer.allocate(1).asReadOnlyBuffer()));
    }
  }

  @Test
  void largeTransferArrivesIntact() throws Exception {
    byte[] data = new byte[8 << 20];
    new java.util.Random(42).nextBytes(data);
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      var writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  client.outputStream().write(data);
                  client.shutdownOutput();
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      assertArrayEquals(data, server.inputStream().readAllBytes());
      writer.get();
    }
  }

  @Test
  void addressesNameTheSocketPath() throws Exception {
    Path path = dir.resolve("s.sock");
    try (UnixListener listener = UnixListener.bind(path);
        UnixConnection client = UnixConnection.connect(path);
        UnixConnection server = listener.accept()) {
      assertEquals(UnixSocketAddress.of(path), listener.localAddress());
      assertEquals(UnixSocketAddress.of(path), server.localAddress());
      assertTrue(server.remoteAddress().isUnnamed());
      assertEquals(UnixSocketAddress.of(path), client.remoteAddress());
      assertTrue(client.localAddress().isUnnamed());
    }
  }

  /** Where a blocked accept, read or write waits for the socket to become ready. */
  private static final String PARKED = "NativeSocket.await";

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void closeWakesAThreadBlockedInAccept(boolean virtual) throws Exception {
    UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
    Background<UnixConnection> accept = Background.start(virtual, listener::accept);
    accept.awaitBlockedIn(PARKED);
    listener.close();
    assertInstanceOf(AsynchronousCloseException.class, accept.failure());
    accept.join();
    assertThrows(ClosedChannelException.class, listener::accept);
  }

  @Test
  void closeWakesEveryThreadBlockedInAcceptOnTheSameListener() throws Exception {
    UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
    var accepts = new java.util.ArrayList<Background<Void>>();
    for (int i = 0; i < 4; i++) {
      accepts.add(Background.virtual(() -> listener.accept().close()));
    }
    // Two connections are accepted by two of the four threads.
    UnixConnection.connect(dir.resolve("s.sock")).close();
    UnixConnection.connect(dir.resolve("s.sock")).close();
    Await.until(
        "two accepts to return",
        () -> accepts.stream().filter(Background::isDone).count() == 2,
        accepts::toString);
    // The other two wait: one parked for the next connection, one for its turn to accept.
    for (var accept : accepts) {
      if (!accept.isDone()) {
        Await.blocked(accept.thread(), "UnixListener.accept");
      }
    }
    listener.close();
    int accepted = 0;
    for (var accept : accepts) {
      try {
        accept.get();
        accepted++;
      } catch (ExecutionException e) {
        assertInstanceOf(ClosedChannelException.class, e.getCause());
      }
    }
    assertEquals(2, accepted);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void closeWakesAThreadBlockedInRead(boolean virtual) throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"))) {
      UnixConnection server = listener.accept();
      Background<Integer> read = Background.start(virtual, () -> server.inputStream().read());
      read.awaitBlockedIn(PARKED);
      server.close();
      assertInstanceOf(AsynchronousCloseException.class, read.failure());
      assertFalse(server.isOpen());
      assertThrows(ClosedChannelException.class, () -> server.read(ByteBuffer.allocate(1)));
      server.close(); // idempotent
    }
  }

  @Test
  void closeWakesAWriterBlockedOnAFullSocket() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      Background<Void> write =
          Background.virtual(
              () -> {
                byte[] chunk = new byte[1 << 20];
                while (true) {
                  client.outputStream().write(chunk); // nobody reads: fills the buffers
                }
              });
      write.awaitBlockedIn(PARKED);
      client.close();
      assertInstanceOf(AsynchronousCloseException.class, write.failure());
    }
  }

  @Test
  void aTimeoutOfAFractionOfAMillisecondEndsAPlatformThreadsRead() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      server.setReadTimeout(Duration.ofNanos(200_000));
      assertThrows(SocketTimeoutException.class, () -> server.inputStream().read());
      client.outputStream().write(7);
      assertEquals(7, server.inputStream().read());
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void interruptingABlockedReaderClosesTheConnection(boolean virtual) throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      Background<Integer> read = Background.start(virtual, () -> server.inputStream().read());
      read.awaitBlockedIn(PARKED);
      read.thread().interrupt();
      assertInstanceOf(java.nio.channels.ClosedByInterruptException.class, read.failure());
      assertFalse(server.isOpen());
    }
  }

  @Test
  void readTimeoutFailsTheReadButKeepsTheConnection() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      server.setReadTimeout(Duration.ofMillis(50));
      assertThrows(SocketTimeoutException.class, () -> server.inputStream().read());
      client.outputStream().write(7);
      assertEquals(7, server.inputStream().read());
      assertThrows(
          IllegalArgumentException.class, () -> server.setReadTimeout(Duration.ofSeconds(-1)));
    }
  }

  @Test
  void aClientThatLeftBeforeAcceptDoesNotBreakTheListener() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"))) {
      UnixConnection.connect(dir.resolve("s.sock")).close();
      try (UnixConnection gone = listener.accept()) {
        assertEquals(PeerCredentials.ofCurrentProcess(), gone.peerCredentials());
        assertEquals(-1, gone.inputStream().read());
      }
      try (UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
          UnixConnection next = listener.accept()) {
        client.outputStream().write(1);
        assertEquals(1, next.inputStream().read());
      }
    }
  }

  @Test
  void refuseDeliversTheMessageAndACleanEndOfStreamEvenAfterClientData() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s.sock"));
        UnixConnection server = listener.accept()) {
      // On a Unix stream socket, send(2) puts the bytes in the receiver's queue before it
      // returns: they are unread data there when the server refuses.
      client.outputStream().write("unread data\n".getBytes(StandardCharsets.UTF_8));
      server.refuse("Unauthorized access\n");
      assertEquals(
          "Unauthorized access\n",
          new String(client.inputStream().readAllBytes(), StandardCharsets.UTF_8));
      assertFalse(server.isOpen());
    }
  }

  @Test
  void connectionsWorkFromManyVirtualThreadsAtOnce() throws Exception {
    int clients = 200;
    try (UnixListener listener = UnixListener.bind(dir.resolve("s.sock"))) {
      Thread acceptor =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      while (true) {
                        UnixConnection c = listener.accept();
                        Thread.ofVirtual()
                            .start(
                                () -> {
                                  try (c) {
                                    c.inputStream().transferTo(c.outputStream());
                                  } catch (IOException ignored) {
                                  }
                                });
                      }
                    } catch (IOException closed) {
                    }
                  });
      try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
        var results = new java.util.ArrayList<java.util.concurrent.Future<String>>();
        for (int i = 0; i < clients; i++) {
          String message = "client " + i;
          results.add(
              executor.submit(
                  () -> {
                    try (UnixConnection c = UnixConnection.connect(dir.resolve("s.sock"))) {
                      c.outputStream().write(message.getBytes(StandardCharsets.UTF_8));
                      c.shutdownOutput();
                      return new String(c.inputStream().readAllBytes(), StandardCharsets.UTF_8);
                    }
                  }));
        }
        for (int i = 0; i < clients; i++) {
          assertEquals("client " + i, results.get(i).get());
        }
      }
      listener.close();
      acceptor.join(5000);
    }
  }

  @Test
  void readingCredentialsOfARawDescriptorThatIsNoSocketFails() throws Exception {
    try (var file = new java.io.FileInputStream("/proc/self/status")) {
      // fd 0 of a test JVM is not a connected AF_UNIX socket; neither is a huge number.
      var e = assertThrows(PeerCredentialsException.class, () -> PeerCredentials.read(1_000_000));
      assertTrue(e.getMessage().contains("EBADF"), e.getMessage());
    }
  }

  @Test
  void executionExceptionsAreUnwrappedForReadability() {
    // guard for the helper below
    assertEquals("x", unwrap(new ExecutionException(new IOException("x"))).getMessage());
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof ExecutionException e ? e.getCause() : t;
  }
}
