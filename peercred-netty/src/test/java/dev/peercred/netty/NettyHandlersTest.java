package dev.peercred.netty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import dev.peercred.policy.Audit;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import dev.peercred.testing.LogLines;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerDomainSocketChannel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Real Netty servers on epoll (and io_uring where it runs) domain sockets, real clients. */
@Timeout(120)
class NettyHandlersTest {
  @TempDir Path dir;

  private static final PeerCredentials ME = PeerCredentials.ofCurrentProcess();

  @BeforeAll
  static void epoll() {
    assertTrue(Epoll.isAvailable(), () -> "epoll must load here: " + Epoll.unavailabilityCause());
  }

  private NettyServer epollServer(
      Path socket, java.util.function.Supplier<io.netty.channel.ChannelHandler> first)
      throws Exception {
    return new NettyServer(
        EpollIoHandler.newFactory(), EpollServerDomainSocketChannel.class, socket, first);
  }

  /**
   * Connects from this process, sends {@code line}, half-closes and reads to EOF. A server that
   * refuses may have closed before the line is sent (a broken pipe): what it sent is read all the
   * same.
   */
  private static String exchange(Path socket, String line) throws IOException {
    try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      client.connect(UnixDomainSocketAddress.of(socket));
      try {
        client.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)));
        client.shutdownOutput();
      } catch (IOException closedAlready) {
        // read what the server sent before it closed
      }
      return readAll(client);
    }
  }

  /** Reads to EOF; a reset before anything was read is returned as {@code "reset: …"}. */
  private static String readAll(SocketChannel client) throws IOException {
    var in = Channels.newInputStream(client);
    var got = new ByteArrayOutputStream();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        got.write(buffer, 0, n);
      }
    } catch (IOException reset) {
      if (got.size() == 0) {
        return "reset: " + reset.getMessage();
      }
    }
    return got.toString(StandardCharsets.UTF_8);
  }

  private static long openPidfds() throws IOException {
    long n = 0;
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          if (Files.readSymbolicLink(fd).toString().contains("pidfd")) {
            n++;
          }
        } catch (IOException gone) {
          // closed meanwhile
        }
      }
    }
    return n;
  }

  private static void await(BooleanSupplier condition, String what) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (!condition.getAsBoolean()) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.onSpinWait();
    }
  }

  @Test
  void theIdentityIsAChannelAttributeAtChannelActiveAndIsClosedWithTheChannel() throws Exception {
    Path socket = dir.resolve("identity.sock");
    CompletableFuture<PeerIdentity> seen = new CompletableFuture<>();
    long pidfdsBefore = openPidfds();
    try (NettyServer server =
        epollServer(
            socket,
            () ->
                new ChannelInboundHandlerAdapter() {
                  @Override
                  public void handlerAdded(ChannelHandlerContext ctx) {
                    ctx.pipeline().addFirst(PeerIdentityHandler.instance());
                  }

                  @Override
                  public void channelActive(ChannelHandlerContext ctx) {
                    seen.complete(PeerIdentityHandler.identity(ctx.channel()));
                    ctx.fireChannelActive();
                  }
                })) {
      assertEquals("uid=" + ME.uid() + " > hi\n", exchange(socket, "hi\n"));
      PeerIdentity identity = seen.get(30, TimeUnit.SECONDS);
      assertEquals(ME, identity.credentials());
      assertEquals(ProcessHandle.current().pid(), identity.process().orElseThrow().pid()); // pinned
      await(
          () -> {
            try {
              return openPidfds() == pidfdsBefore;
            } catch (IOException e) {
              return false;
            }
          },
          "the identity's pidfd to be closed with the channel");
    }
  }

  @Test
  void anotherUserIsRefusedWithTheMessageAuditedAndNeverReachesTheApplication() throws Exception {
    Python.assumeOtherUsers();
    Path socket = dir.resolve("refuse.sock");
    PeerAuthorizationHandler authorization =
        PeerAuthorizationHandler.builder(Policy.uid(ME.uid()))
            .refusalMessage(PeerAuthorizationHandler.UNAUTHORIZED)
            .build();
    try (LogLines audit = LogLines.capture(Audit.LOGGER_NAME);
        NettyServer server = epollServer(socket, () -> authorization)) {
      Python.Result nobody = Python.sendAs(65534, socket, "let me in\n");
      assertEquals(PeerAuthorizationHandler.UNAUTHORIZED, nobody.received(), nobody.toString());
      assertEquals(0, server.activations.get(), "the application saw a refused channel");
      assertEquals(1, authorization.refusals());
      await(
          () ->
              audit.lines().stream()
                  .anyMatch(l -> l.startsWith("connection DENY") && l.contains("uid=65534")),
          "the audit line: " + audit.lines());
      assertTrue(
          audit.lines().stream().anyMatch(l -> l.contains("endpoint=" + socket)),
          audit.lines().toString());

      assertEquals("uid=" + ME.uid() + " > mine\n", exchange(socket, "mine\n"));
      assertEquals(1, server.activations.get());
      await(
          () -> audit.lines().stream().anyMatch(l -> l.startsWith("connection ALLOW")),
          "the allowed audit line");
    }
  }

  @Test
  void aSlowPolicyDoesNotBlockTheEventLoopAndEarlyBytesWaitForTheDecision() throws Exception {
    Path socket = dir.resolve("slow.sock");
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    Policy slowForTheFirst =
        peer -> {
          if (first.getAndSet(false)) {
            try {
              release.await(); // a name service that takes its time
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return Decision.allow("test");
        };
    PeerAuthorizationHandler authorization = PeerAuthorizationHandler.of(slowForTheFirst);
    try (NettyServer server = epollServer(socket, () -> authorization)) {
      SocketChannel slow = SocketChannel.open(UnixDomainSocketAddress.of(socket));
      slow.write(ByteBuffer.wrap("early\n".getBytes(StandardCharsets.UTF_8)));
      await(() -> !first.get(), "the first decision to start");
      // The only event-loop thread still serves others while the first decision waits.
      assertEquals("uid=" + ME.uid() + " > quick\n", exchange(socket, "quick\n"));
      assertEquals(1, server.activations.get());
      release.countDown();
      slow.shutdownOutput();
      assertEquals("uid=" + ME.uid() + " > early\n", readAll(slow));
      slow.close();
      assertEquals(2, server.activations.get());
    }
  }

  @Test
  void aPolicyThatThrowsDenies() throws Exception {
    Path socket = dir.resolve("throws.sock");
    PeerAuthorizationHandler authorization =
        PeerAuthorizationHandler.builder(
                peer -> {
                  throw new IllegalStateException("broken policy");
                })
            .refusalMessage("no\n")
            .build();
    try (NettyServer server = epollServer(socket, () -> authorization)) {
      assertEquals("no\n", exchange(socket, "hi\n"));
      assertEquals(0, server.activations.get());
    }
  }

  @Test
  void aRefusedPeerThatSentDataFirstReadsTheMessageAndACleanEndOfStream() throws Exception {
    Path socket = dir.resolve("refused-writer.sock");
    CountDownLatch sent = new CountDownLatch(1);
    PeerAuthorizationHandler deny =
        PeerAuthorizationHandler.builder(Policy.not(Policy.sameUser()))
            .decideOn(
                task ->
                    Thread.ofVirtual()
                        .start(
                            () -> {
                              try {
                                sent.await(); // decide once the peer's bytes are all sent
                              } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                              }
                              task.run();
                            }))
            .refusalMessage("no\n")
            .build();
    try (NettyServer server = epollServer(socket, () -> deny);
        SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      client.connect(UnixDomainSocketAddress.of(socket));
      client.write(ByteBuffer.wrap(new byte[64 * 1024]));
      sent.countDown(); // and the output stays open: the server does not see an end of input
      // Closed with the peer's bytes unread, the socket would give the peer a reset here.
      assertEquals(
          "no\n",
          new String(Channels.newInputStream(client).readAllBytes(), StandardCharsets.UTF_8));
      assertEquals(1, deny.refusals());
      assertEquals(0, server.activations.get());
    }
  }

  @Test
  void aCredentialsPolicyCanDecideOnTheEventLoop() throws Exception {
    Path socket = dir.resolve("onloop.sock");
    PeerAuthorizationHandler allow =
        PeerAuthorizationHandler.builder(Policy.sameUser()).decideOnEventLoop().build();
    try (NettyServer server = epollServer(socket, () -> allow)) {
      assertEquals("uid=" + ME.uid() + " > x\n", exchange(socket, "x\n"));
    }
    PeerAuthorizationHandler deny =
        PeerAuthorizationHandler.builder(Policy.not(Policy.sameUser())).decideOnEventLoop().build();
    Path other = dir.resolve("onloop-deny.sock");
    try (NettyServer server = epollServer(other, () -> deny)) {
      String got = exchange(other, "x\n");
      assertTrue(got.isEmpty() || got.startsWith("reset"), got);
      assertEquals(0, server.activations.get());
    }
  }

  @Test
  void aChannelThatIsNotADomainSocketIsClosed() {
    EmbeddedChannel channel = new EmbeddedChannel(PeerIdentityHandler.instance());
    assertFalse(channel.isOpen());
    assertTrue(PeerIdentityHandler.find(channel).isEmpty());
    EmbeddedChannel authorized = new EmbeddedChannel(PeerAuthorizationHandler.of(Policy.anyone()));
    assertFalse(authorized.isOpen());
  }

  @Test
  void aClientChannelReadsTheServersIdentity() throws Exception {
    Path socket = dir.resolve("client.sock");
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try (NettyServer server = epollServer(socket, PeerIdentityHandler::instance)) {
      Channel client =
          new Bootstrap()
              .group(group)
              .channel(EpollDomainSocketChannel.class)
              .handler(PeerIdentityHandler.instance())
              .connect(new DomainSocketAddress(socket.toFile()))
              .sync()
              .channel();
      await(() -> PeerIdentityHandler.find(client).isPresent(), "the server's identity");
      assertEquals(ME, PeerIdentityHandler.identity(client).credentials());
      client.close().sync();
    } finally {
      group.shutdownGracefully(0, 5, TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void ioUringDomainSocketsWorkTheSame() throws Exception {
    assumeTrue(
        IoUring.isAvailable(),
        () -> "SKIPPED LOUDLY: io_uring does not run here: " + IoUring.unavailabilityCause());
    Path socket = dir.resolve("uring.sock");
    PeerAuthorizationHandler authorization = PeerAuthorizationHandler.of(Policy.sameUser());
    try (NettyServer server =
        new NettyServer(
            IoUringIoHandler.newFactory(),
            IoUringServerDomainSocketChannel.class,
            socket,
            () -> authorization)) {
      assertEquals("uid=" + ME.uid() + " > ring\n", exchange(socket, "ring\n"));
      assertEquals(1, server.activations.get());
      Python.assumeOtherUsers();
      Python.Result nobody = Python.sendAs(65534, socket, "x\n");
      assertEquals("", nobody.received(), nobody.toString());
      assertEquals(1, authorization.refusals());
      assertNotNull(server.channel);
    }
  }
}
