package dev.peercred.grpc;

import dev.peercred.PeerIdentity;
import io.grpc.Attributes;
import io.grpc.ChannelCredentials;
import io.grpc.ChannelLogger;
import io.grpc.SecurityLevel;
import io.grpc.ServerCredentials;
import io.grpc.Status;
import io.grpc.internal.GrpcAttributes;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketChannel;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one place that touches grpc-netty's internal protocol-negotiator API (the mechanism ALTS and
 * TLS use to attach a peer's authentication to a transport). Everything else in this package uses
 * public grpc API only; {@code GrpcInternalsTest} fails loudly if an upgrade breaks this class.
 *
 * <p>Server chain per connection: {@code waitUntilActiveHandler} (sets the local and remote
 * address) → {@link ServerHandler} (reads {@code SO_PEERCRED} from the accepted descriptor, sets
 * {@link PeerIdentities#TRANSPORT_ATTR_PEER_IDENTITY} and {@link
 * SecurityLevel#PRIVACY_AND_INTEGRITY}) → {@code grpcNegotiationHandler} (hands the attributes to
 * the transport). The client chain is the same with {@link ClientHandler}, which also checks the
 * server's identity before any call is sent.
 */
final class PeerCredNegotiators {
  private static final System.Logger LOG = System.getLogger(PeerCredNegotiators.class.getName());
  private static final AsciiString SCHEME = AsciiString.of("http");

  private PeerCredNegotiators() {}

  /** Server credentials whose transports carry the client's identity, or are closed. */
  static ServerCredentials serverCredentials() {
    return InternalNettyServerCredentials.create(
        new Negotiator(
            gh ->
                new ServerHandler(
                    InternalProtocolNegotiators.grpcNegotiationHandler(gh),
                    gh.getNegotiationLogger()),
            "server"));
  }

  /**
   * Channel credentials whose transports carry the server's identity, and fail every call with
   * {@code UNAVAILABLE} when {@code check} returns a reason to distrust the server.
   */
  static ChannelCredentials channelCredentials(Function<PeerIdentity, Optional<String>> check) {
    InternalProtocolNegotiator.ProtocolNegotiator negotiator =
        new Negotiator(
            gh ->
                new ClientHandler(
                    InternalProtocolNegotiators.grpcNegotiationHandler(gh),
                    gh.getNegotiationLogger(),
                    check),
            "client");
    return InternalNettyChannelCredentials.create(
        new InternalProtocolNegotiator.ClientFactory() {
          @Override
          public InternalProtocolNegotiator.ProtocolNegotiator newNegotiator() {
            return negotiator;
          }

          @Override
          public int getDefaultPort() {
            return 80; // never used: the address is a socket path
          }
        });
  }

  private record Negotiator(
      Function<GrpcHttp2ConnectionHandler, ChannelHandler> handler, String side)
      implements InternalProtocolNegotiator.ProtocolNegotiator {
    @Override
    public AsciiString scheme() {
      return SCHEME;
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
      return InternalProtocolNegotiators.waitUntilActiveHandler(
          handler.apply(grpcHandler), grpcHandler.getNegotiationLogger());
    }

    @Override
    public void close() {}
  }

  /**
   * Reads the peer of a connected domain-socket channel, and closes the identity (its pidfd) when
   * the channel closes; throws for any other channel.
   */
  static PeerIdentity readPeer(Channel channel) throws IOException {
    if (!(channel instanceof DomainSocketChannel unix)) {
      throw new IOException(
          "not a Unix domain socket channel: " + channel.getClass().getSimpleName());
    }
    PeerIdentity peer = PeerIdentity.read(unix.fd().intValue());
    channel.closeFuture().addListener(closed -> peer.close());
    return peer;
  }

  private static ProtocolNegotiationEvent withIdentity(
      ProtocolNegotiationEvent pne, PeerIdentity peer) {
    Attributes attributes =
        InternalProtocolNegotiationEvent.getAttributes(pne).toBuilder()
            .set(PeerIdentities.TRANSPORT_ATTR_PEER_IDENTITY, peer)
            // A local socket's bytes never leave the kernel: what grpc-go's local credentials say.
            .set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.PRIVACY_AND_INTEGRITY)
            .build();
    return InternalProtocolNegotiationEvent.withAttributes(pne, attributes);
  }

  /** Server side: identity of the connecting client, or the connection is closed. */
  static final class ServerHandler extends InternalProtocolNegotiators.ProtocolNegotiationHandler {
    ServerHandler(ChannelHandler next, ChannelLogger logger) {
      super(next, "peercred-server", logger);
    }

    @Override
    protected void protocolNegotiationEventTriggered(ChannelHandlerContext ctx) {
      PeerIdentity peer;
      try {
        peer = readPeer(ctx.channel());
      } catch (IOException | RuntimeException e) {
        // Fail closed: a connection whose caller is unknown never reaches a handler.
        LOG.log(
            Level.WARNING,
            "closing connection: cannot read the caller's identity: {0}",
            e.toString());
        ctx.close();
        return;
      }
      replaceProtocolNegotiationEvent(withIdentity(getProtocolNegotiationEvent(), peer));
      fireProtocolNegotiationEvent(ctx);
    }
  }

  /** Client side: identity of the listening server, checked before the first call. */
  static final class ClientHandler extends InternalProtocolNegotiators.ProtocolNegotiationHandler {
    private final Function<PeerIdentity, Optional<String>> check;

    ClientHandler(
        ChannelHandler next, ChannelLogger logger, Function<PeerIdentity, Optional<String>> check) {
      super(next, "peercred-client", logger);
      this.check = check;
    }

    @Override
    protected void protocolNegotiationEventTriggered(ChannelHandlerContext ctx) {
      PeerIdentity server;
      Optional<String> distrust;
      try {
        server = readPeer(ctx.channel());
        distrust = check.apply(server);
      } catch (IOException | RuntimeException e) {
        ctx.fireExceptionCaught(
            Status.UNAVAILABLE
                .withDescription("peercred: cannot read the server's identity: " + e)
                .withCause(e)
                .asRuntimeException());
        return;
      }
      if (distrust.isPresent()) {
        ctx.fireExceptionCaught(
            Status.UNAVAILABLE
                .withDescription(
                    "peercred: refusing the server at "
                        + ctx.channel().remoteAddress()
                        + " ("
                        + server
                        + "): "
                        + distrust.get())
                .asRuntimeException());
        return;
      }
      replaceProtocolNegotiationEvent(withIdentity(getProtocolNegotiationEvent(), server));
      fireProtocolNegotiationEvent(ctx);
    }
  }
}
