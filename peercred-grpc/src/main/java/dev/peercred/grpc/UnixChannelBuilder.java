package dev.peercred.grpc;

import dev.peercred.PeerIdentity;
import io.grpc.ForwardingChannelBuilder2;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Builds a channel to a gRPC server on a Unix domain socket path, optionally checking who the
 * server is before the first call is sent.
 *
 * {@snippet :
 * ManagedChannel channel = UnixChannelBuilder.forPath(Path.of("/run/app/grpc.sock"))
 *     .expectServerUid(0)                                 // a squatter running as uid 1000 fails
 *     .expectServerExecutable(Path.of("/usr/libexec/appd"))
 *     .build();
 * }
 *
 * <p>Each connection reads the identity of the process that created the listening socket ({@code
 * SO_PEERCRED} on the client side, captured at {@code listen(2)}) when it connects. If an
 * expectation is not met, the connection is closed before any request byte is written and every
 * call made over it fails with {@code UNAVAILABLE} and a description saying which expectation the
 * server missed: a defence against a socket path taken over by another process. The server's
 * identity is also available to client interceptors as {@link
 * PeerIdentities#TRANSPORT_ATTR_PEER_IDENTITY} on {@code ClientCall.getAttributes()}.
 *
 * <p>The channel is plaintext HTTP/2 over the socket and uses event loops shared by all channels
 * of this module (daemon threads); shut the channel down as usual.
 */
public final class UnixChannelBuilder extends ForwardingChannelBuilder2<UnixChannelBuilder> {
  private final NettyChannelBuilder delegate;
  private final List<PeerAuthorization.Rule> expectations = new ArrayList<>();
  /** Filled by {@link #build()}; the negotiator reads it when a connection is made. */
  private volatile List<PeerAuthorization.Rule> frozen = List.of();

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

  /** Requires the server process to run as {@code uid} (effective uid at {@code listen(2)}). */
  public UnixChannelBuilder expectServerUid(long uid) {
    PeerAuthorization.Rule rule = PeerAuthorization.allowUids(uid);
    expectations.add(
        server ->
            rule.denialReason(server).map(ignored -> "expected server uid " + uid + ", got "
                + server.uid()));
    return this;
  }

  /**
   * Requires the server process to run the executable at {@code executable} (compared with
   * {@code /proc/PID/exe} after resolving symbolic links on both sides). Fails the check when the
   * server's pid is not visible in this pid namespace or its executable cannot be read.
   */
  public UnixChannelBuilder expectServerExecutable(Path executable) {
    Objects.requireNonNull(executable, "executable");
    Path expected;
    try {
      expected = executable.toRealPath();
    } catch (IOException e) {
      throw new IllegalArgumentException("expected executable does not exist: " + executable, e);
    }
    expectations.add(
        server -> {
          if (server.pid().isEmpty()) {
            return Optional.of("the server's pid is not visible here, so its executable is unknown");
          }
          Path actual;
          try {
            actual = Files.readSymbolicLink(Path.of("/proc", Long.toString(server.pid().getAsLong()),
                "exe"));
          } catch (IOException e) {
            return Optional.of("cannot read the server's executable: " + e);
          }
          return actual.equals(expected)
              ? Optional.empty()
              : Optional.of("expected server executable " + expected + ", got " + actual);
        });
    return this;
  }

  /**
   * Adds a check of the server's identity: the rule returns empty to trust the server, or the
   * reason not to (which the failing calls report).
   */
  public UnixChannelBuilder expectServer(PeerAuthorization.Rule check) {
    expectations.add(Objects.requireNonNull(check, "check"));
    return this;
  }

  @Override
  public ManagedChannel build() {
    frozen = List.copyOf(expectations);
    return delegate.build();
  }

  private Optional<String> distrust(PeerIdentity server) {
    for (PeerAuthorization.Rule rule : frozen) {
      Optional<String> reason;
      try {
        reason = Objects.requireNonNull(rule.denialReason(server), "check returned null");
      } catch (Exception e) {
        reason = Optional.of("the server check failed: " + e);
      }
      if (reason.isPresent()) {
        return reason;
      }
    }
    return Optional.empty();
  }
}
