package dev.peercred.grpc;

import io.grpc.CallOptions;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Unary call latency over a Unix socket: stock grpc-netty plaintext versus {@link
 * UnixServerBuilder} with {@link PeerAuthorization} and a handler that reads {@link
 * PeerIdentities#current()}. Not a test: run it as a main (see docs/grpc.md). Rounds alternate
 * between the two servers so that noise from other load hits both alike.
 */
public final class UnixGrpcBenchmark {
  private UnixGrpcBenchmark() {}

  public static void main(String[] args) throws Exception {
    int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
    int connections = args.length > 2 ? Integer.parseInt(args[2]) : 300;
    Path dir = Files.createTempDirectory("peercred-grpc-bench");
    Path plainSocket = dir.resolve("plain.sock");
    Path peerSocket = dir.resolve("peer.sock");

    Server plain =
        NettyServerBuilder.forAddress(
                new DomainSocketAddress(plainSocket.toString()), InsecureServerCredentials.create())
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(EventLoops.boss())
            .workerEventLoopGroup(EventLoops.worker())
            .withChildOption(ChannelOption.SO_KEEPALIVE, null)
            .addService(echo(false))
            .build()
            .start();
    Server peer =
        UnixServerBuilder.forPath(peerSocket)
            .addService(echo(true))
            .intercept(
                PeerAuthorization.builder()
                    .byDefault(dev.peercred.policy.Policy.sameUser())
                    .build())
            .build()
            .start();
    try {
      ManagedChannel plainChannel = plainChannel(plainSocket);
      ManagedChannel peerChannel = UnixChannelBuilder.forPath(peerSocket).build();
      System.out.printf("warming up (%d calls each)...%n", calls);
      loop(plainChannel, calls);
      loop(peerChannel, calls);
      double[] a = new double[rounds];
      double[] b = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        a[r] = loop(plainChannel, calls);
        b[r] = loop(peerChannel, calls);
        System.out.printf(
            "round %d: plain %.2f us/call, identity+policy %.2f us/call%n", r + 1, a[r], b[r]);
      }
      double ma = median(a);
      double mb = median(b);
      System.out.printf(
          "unary, 1 channel, sequential: plain %.2f us/call, identity+policy %.2f us/call,"
              + " overhead %+.2f us (%+.1f%%) [median of %d rounds x %d calls]%n",
          ma, mb, mb - ma, 100 * (mb - ma) / ma, rounds, calls);
      plainChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      peerChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

      double added = interceptorNanos(calls * 10);
      System.out.printf(
          "per-call work added by identity+policy (interceptors alone, no transport): %.0f ns"
              + " = %.2f%% of the plain call's median latency%n",
          added, 100 * added / 1_000 / ma);

      // Connection setup: new channel + first call (SO_PEERCRED is read once per connection).
      connect(plainSocket, false, connections / 3);
      connect(peerSocket, true, connections / 3);
      double ca = connect(plainSocket, false, connections);
      double cb = connect(peerSocket, true, connections);
      System.out.printf(
          "new connection + first call: plain %.0f us, identity+policy %.0f us (%+.1f%%)"
              + " [mean of %d]%n",
          ca, cb, 100 * (cb - ca) / ca, connections);
    } finally {
      plain.shutdownNow();
      peer.shutdownNow();
      plain.awaitTermination(5, TimeUnit.SECONDS);
      peer.awaitTermination(5, TimeUnit.SECONDS);
      Files.deleteIfExists(plainSocket);
      Files.deleteIfExists(peerSocket);
      Files.deleteIfExists(dir);
    }
  }

  /**
   * Returns the nanoseconds per call that the identity interceptor and the authorization
   * interceptor add, measured by driving a server's interceptor chain directly with a minimal call:
   * the work peercred adds to every call once the connection's identity has been read.
   */
  private static double interceptorNanos(int calls) throws Exception {
    dev.peercred.PeerIdentity me = selfIdentity();
    io.grpc.Attributes attributes =
        io.grpc.Attributes.newBuilder()
            .set(PeerIdentities.TRANSPORT_ATTR_PEER_IDENTITY, me)
            .build();
    io.grpc.ServerCallHandler<String, String> handler =
        (call, headers) ->
            new io.grpc.ServerCall.Listener<>() {
              @Override
              public void onHalfClose() {
                PeerIdentities.current();
              }
            };
    io.grpc.ServerCallHandler<String, String> plainHandler =
        (call, headers) -> new io.grpc.ServerCall.Listener<>() {};
    ServerServiceDefinition withPeer =
        io.grpc.ServerInterceptors.intercept(
            ServerServiceDefinition.builder(TestService.NAME)
                .addMethod(TestService.WHO_AM_I, handler)
                .build(),
            PeerAuthorization.builder().byDefault(dev.peercred.policy.Policy.sameUser()).build(),
            PeerIdentities.newPeerIdentifyingServerInterceptor());
    ServerServiceDefinition without =
        ServerServiceDefinition.builder(TestService.NAME)
            .addMethod(TestService.WHO_AM_I, plainHandler)
            .build();
    MinimalCall call = new MinimalCall(attributes);
    double best = Double.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      long a = drive(without, call, calls);
      long b = drive(withPeer, call, calls);
      best = Math.min(best, (double) (b - a) / calls);
    }
    return best;
  }

  @SuppressWarnings("unchecked")
  private static long drive(ServerServiceDefinition service, MinimalCall call, int calls) {
    io.grpc.ServerCallHandler<String, String> h =
        (io.grpc.ServerCallHandler<String, String>)
            service.getMethod(TestService.WHO_AM_I.getFullMethodName()).getServerCallHandler();
    io.grpc.Metadata headers = new io.grpc.Metadata();
    long start = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      io.grpc.ServerCall.Listener<String> listener = h.startCall(call, headers);
      listener.onReady();
      listener.onMessage("x");
      listener.onHalfClose();
      listener.onComplete();
    }
    return System.nanoTime() - start;
  }

  /** Our own identity, read from a real connection as a server reads its caller's. */
  private static dev.peercred.PeerIdentity selfIdentity() throws Exception {
    Path dir = Files.createTempDirectory("peercred-grpc-bench-self");
    Path socket = dir.resolve("s.sock");
    try (var listener = dev.peercred.UnixListener.bind(socket);
        var client =
            java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket));
        var connection = listener.accept()) {
      return connection.peerIdentity();
    } finally {
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    }
  }

  private static final class MinimalCall extends io.grpc.ServerCall<String, String> {
    private final io.grpc.Attributes attributes;

    MinimalCall(io.grpc.Attributes attributes) {
      this.attributes = attributes;
    }

    @Override
    public io.grpc.Attributes getAttributes() {
      return attributes;
    }

    @Override
    public MethodDescriptor<String, String> getMethodDescriptor() {
      return TestService.WHO_AM_I;
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void sendHeaders(io.grpc.Metadata headers) {}

    @Override
    public void sendMessage(String message) {}

    @Override
    public void close(io.grpc.Status status, io.grpc.Metadata trailers) {
      throw new AssertionError("refused: " + status);
    }

    @Override
    public boolean isCancelled() {
      return false;
    }
  }

  private static ManagedChannel plainChannel(Path socket) {
    return NettyChannelBuilder.forAddress(
            new DomainSocketAddress(socket.toString()), InsecureChannelCredentials.create())
        .channelType(EpollDomainSocketChannel.class, DomainSocketAddress.class)
        .eventLoopGroup(EventLoops.worker())
        .overrideAuthority("localhost")
        .withOption(ChannelOption.SO_KEEPALIVE, null)
        .build();
  }

  private static ServerServiceDefinition echo(boolean readIdentity) {
    return ServerServiceDefinition.builder(TestService.NAME)
        .addMethod(
            TestService.WHO_AM_I,
            ServerCalls.asyncUnaryCall(
                (String request, StreamObserver<String> reply) -> {
                  reply.onNext(readIdentity ? Long.toString(PeerIdentities.current().uid()) : "0");
                  reply.onCompleted();
                }))
        .build();
  }

  /** Returns microseconds per call. */
  private static double loop(ManagedChannel channel, int calls) {
    MethodDescriptor<String, String> method = TestService.WHO_AM_I;
    long start = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      ClientCalls.blockingUnaryCall(channel, method, CallOptions.DEFAULT, "x");
    }
    return (System.nanoTime() - start) / 1_000.0 / calls;
  }

  /** Returns mean microseconds for a new channel's first call. */
  private static double connect(Path socket, boolean peercred, int count) throws Exception {
    long total = 0;
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      ManagedChannel channel =
          peercred ? UnixChannelBuilder.forPath(socket).build() : plainChannel(socket);
      ClientCalls.blockingUnaryCall(channel, TestService.WHO_AM_I, CallOptions.DEFAULT, "x");
      total += System.nanoTime() - start;
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    return total / 1_000.0 / count;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
