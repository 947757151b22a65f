package dev.peercred.grpc;

import dev.peercred.PeerIdentity;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import io.grpc.ForwardingChannelBuilder2;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Builds a channel to a gRPC server on a Unix domain socket path, optionally checking who the
 * server is before the first call is sent.
 *
 * {@snippet class = dev.peercred.examples.grpc.snippets.GrpcSnippets region = channel}
 *
 * <p>Each connection reads the identity of the process that created the listening socket ({@code
 * SO_PEERCRED} on the client side, captured at {@code listen(2)}) when it connects. If an
 * expectation is not met, the connection is closed before any request byte is written and every
 * call made over it fails with {@code UNAVAILABLE} and a description saying which expectation the
 * server missed: a defence against a socket path taken over by another process. The server's
 * identity is also available to client interceptors as {@link
 * PeerIdentities#TRANSPORT_ATTR_PEER_IDENTITY} on {@code ClientCall.getAttributes()}.
 *
 * <p>The channel is plaintext HTTP/2 over the socket and uses event loops shared by all channels of
 * this module (daemon threads); shut the channel down as usual.
 */
public final class UnixChannelBuilder extends ForwardingChannelBuilder2<UnixChannelBuilder> {
  private final NettyChannelBuilder delegate;
  private final List<Policy> expectations = new ArrayList<>();

  /** Filled by {@link #build()}; the negotiator reads it when a connection is made. */
  private volatile List<Policy> frozen = List.of();

  private UnixChannelBuilder(Path path) {
    this.delegate =
        NettyChannelBuilder.forAddress(
                new DomainSocketAddress(path.toString()),
                PeerCredNegotiators.channelCredentials(this::distrust))
            .channelType(EpollDomainSocketChannel.class, DomainSocketAddress.class)
            .eventLoopGroup(EventLoops.worker())
            .overrideAuthority("localhost")
            // grpc always asks for TCP keep-alive, which a Unix socket does not have: drop it.
            .withOption(ChannelOption.SO_KEEPALIVE, null);
  }

  /**
   * Returns a builder for a channel to the server listening on {@code socket}.
   *
   * @throws UnsupportedOperationException if Netty's epoll transport is not available here
   */
  public static UnixChannelBuilder forPath(Path socket) {
    Objects.requireNonNull(socket, "socket");
    if (socket.toString().isEmpty()) {
      throw new IllegalArgumentException("socket path is empty");
    }
    EventLoops.ensureEpoll();
    return new UnixChannelBuilder(socket.toAbsolutePath());
  }

  @Override
  protected ManagedChannelBuilder<?> delegate() {
    return delegate;
  }

  /**
   * Requires the server process to have run as {@code uid} (effective uid at {@code listen(2)}).
   *
   * @throws IllegalArgumentException if {@code uid} is outside 0..4294967294
   */
  public UnixChannelBuilder expectServerUid(long uid) {
    return expectServer(Policy.uid(uid));
  }

  /**
   * Requires the server process to run the executable at {@code executable} ({@link
   * Policy#executable(Path)}: {@code /proc/PID/exe} of the pinned process, symbolic links resolved
   * on both sides). Fails the check when the server's pid is not visible in this pid namespace.
   *
   * @throws IllegalArgumentException if the path is not absolute
   */
  public UnixChannelBuilder expectServerExecutable(Path executable) {
    return expectServer(Policy.executable(executable));
  }

  /**
   * Requires the server to satisfy {@code policy}; the calls of a connection to a server it does
   * not allow fail with {@code UNAVAILABLE} and the policy's reason. Several expectations must all
   * hold.
   */
  public UnixChannelBuilder expectServer(Policy policy) {
    expectations.add(Objects.requireNonNull(policy, "policy"));
    return this;
  }

  @Override
  public ManagedChannel build() {
    frozen = List.copyOf(expectations);
    return delegate.build();
  }

  private Optional<String> distrust(PeerIdentity server) {
    for (Policy expectation : frozen) {
      Decision decision = expectation.decide(server); // fails closed: a throw is an ERROR
      if (!decision.allowed()) {
        return Optional.of("server expected to match '" + expectation + "': " + decision);
      }
    }
    return Optional.empty();
  }
}
