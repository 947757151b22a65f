package dev.peercred.grpc;

import dev.peercred.AddressInUseException;
import dev.peercred.SocketFile;
import io.grpc.ForwardingServerBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Builds a grpc-java server on a Unix domain socket path where every call carries its caller's
 * identity ({@link PeerIdentities}).
 *
 * {@snippet class = dev.peercred.examples.grpc.GrpcDemoServer region = server}
 *
 * <p>Each accepted connection's identity is read from the kernel ({@code SO_PEERCRED}) before any
 * of its calls is accepted; a connection whose identity cannot be read is closed. The transport
 * reports {@link io.grpc.SecurityLevel#PRIVACY_AND_INTEGRITY} (the bytes never leave the kernel, as
 * grpc-go's local credentials say), and {@code Grpc.TRANSPORT_ATTR_REMOTE_ADDR} and {@code
 * TRANSPORT_ATTR_LOCAL_ADDR} keep Netty's domain socket addresses. {@link #build()} adds {@link
 * PeerIdentities#newPeerIdentifyingServerInterceptor()} as the outermost interceptor.
 *
 * <p>On {@link Server#start()} a socket file left by a dead server is replaced; a live server's
 * makes {@code start} fail with {@link AddressInUseException}, and a file that is not a socket
 * (never deleted) with a {@link java.net.BindException} naming its type, as {@link
 * SocketFile#removeIfStale(Path)} decides for every peercred server. The socket file takes the
 * process umask; put it in a directory whose permissions say who may connect. Closing the server
 * removes the file. The transport is grpc-netty-shaded on Netty's epoll, with event loops shared by
 * all servers of this module (daemon threads).
 */
public final class UnixServerBuilder extends ForwardingServerBuilder<UnixServerBuilder> {
  private final Path path;
  private final NettyServerBuilder delegate;

  private UnixServerBuilder(Path path) {
    this.path = path;
    this.delegate =
        NettyServerBuilder.forAddress(
                new DomainSocketAddress(path.toString()), PeerCredNegotiators.serverCredentials())
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(EventLoops.boss())
            .workerEventLoopGroup(EventLoops.worker())
            // grpc always asks for TCP keep-alive, which a Unix socket does not have: drop it.
            .withChildOption(ChannelOption.SO_KEEPALIVE, null);
  }

  /**
   * Returns a builder for a server that will listen on {@code socket}.
   *
   * @throws IllegalArgumentException if the path is empty or too long for {@code sockaddr_un}
   * @throws UnsupportedOperationException if Netty's epoll transport is not available here
   */
  public static UnixServerBuilder forPath(Path socket) {
    Objects.requireNonNull(socket, "socket");
    Path absolute = socket.toAbsolutePath();
    if (socket.toString().isEmpty()) {
      throw new IllegalArgumentException("socket path is empty");
    }
    if (absolute.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 107) {
      throw new IllegalArgumentException(
          "socket path longer than 107 bytes (sockaddr_un limit): " + absolute);
    }
    EventLoops.ensureEpoll();
    return new UnixServerBuilder(absolute);
  }

  @Override
  protected ServerBuilder<?> delegate() {
    return delegate;
  }

  /**
   * Builds the server, with {@link PeerIdentities#newPeerIdentifyingServerInterceptor()} added as
   * the outermost interceptor so that {@link PeerIdentities#current()} works in every handler and
   * in the interceptors added before.
   */
  @Override
  public Server build() {
    delegate.intercept(PeerIdentities.newPeerIdentifyingServerInterceptor());
    return new StaleSocketReplacingServer(delegate.build(), path);
  }

  /** Replaces a dead server's socket file before binding. */
  private static final class StaleSocketReplacingServer extends Server {
    private final Server delegate;
    private final Path path;

    StaleSocketReplacingServer(Server delegate, Path path) {
      this.delegate = delegate;
      this.path = path;
    }

    @Override
    public Server start() throws IOException {
      SocketFile.removeIfStale(path);
      delegate.start();
      return this;
    }

    @Override
    public int getPort() {
      return delegate.getPort();
    }

    @Override
    public List<? extends java.net.SocketAddress> getListenSockets() {
      return delegate.getListenSockets();
    }

    @Override
    public List<io.grpc.ServerServiceDefinition> getServices() {
      return delegate.getServices();
    }

    @Override
    public List<io.grpc.ServerServiceDefinition> getImmutableServices() {
      return delegate.getImmutableServices();
    }

    @Override
    public List<io.grpc.ServerServiceDefinition> getMutableServices() {
      return delegate.getMutableServices();
    }

    @Override
    public Server shutdown() {
      delegate.shutdown();
      return this;
    }

    @Override
    public Server shutdownNow() {
      delegate.shutdownNow();
      return this;
    }

    @Override
    public boolean isShutdown() {
      return delegate.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return delegate.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      return delegate.awaitTermination(timeout, unit);
    }

    @Override
    public void awaitTermination() throws InterruptedException {
      delegate.awaitTermination();
    }

    @Override
    public String toString() {
      return "UnixServer[" + path + "]";
    }
  }
}
