package dev.peercred.netty;

import dev.peercred.PeerIdentity;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.unix.DomainSocketChannel;
import io.netty.util.AttributeKey;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads the identity of the process on the other end of a Netty Unix domain socket channel when the
 * channel becomes active, and keeps it as the channel attribute {@link #IDENTITY} until the channel
 * closes (then its pidfd is released). A channel whose identity cannot be read is closed, and the
 * handlers after this one never see it become active.
 *
 * {@snippet class = dev.peercred.examples.netty.NettyEchoServer region = identity}
 *
 * <p>Works with every channel that is a {@link DomainSocketChannel} with a descriptor: Netty 4.2's
 * {@code EpollDomainSocketChannel} and {@code IoUringDomainSocketChannel}, accepted or connected (a
 * client reads the server's identity). Add it first in the pipeline.
 *
 * <p><b>On the event loop.</b> The read runs on the channel's event loop, which is also the only
 * thread that closes the descriptor, so the descriptor cannot be closed and reused meanwhile. It
 * blocks on nothing: a few {@code getsockopt} calls ({@code SO_PEERCRED}, {@code SO_PEERGROUPS},
 * {@code SO_PEERSEC}, {@code SO_PEERPIDFD}) and one read of {@code /proc/PID/stat} (in memory,
 * without the process's memory lock) to pin the process. What can block, user and group names (NSS)
 * and the process's details from {@code /proc}, is read only when asked: do not ask on the event
 * loop, or use {@link PeerAuthorizationHandler}, which decides off the loop.
 *
 * <p>This handler is {@linkplain ChannelHandler.Sharable sharable}: one instance serves every
 * channel.
 */
@ChannelHandler.Sharable
public final class PeerIdentityHandler extends ChannelInboundHandlerAdapter {
  /** The channel attribute holding the peer's identity, set before the channel is active. */
  public static final AttributeKey<PeerIdentity> IDENTITY =
      AttributeKey.valueOf(PeerIdentityHandler.class, "identity");

  private static final System.Logger LOG = System.getLogger(PeerIdentityHandler.class.getName());

  private static final PeerIdentityHandler INSTANCE = new PeerIdentityHandler();

  private PeerIdentityHandler() {}

  /** Returns the handler (one instance serves every channel). */
  public static PeerIdentityHandler instance() {
    return INSTANCE;
  }

  /**
   * Returns the identity of {@code channel}'s peer.
   *
   * @throws IllegalStateException if the channel has none: no {@link PeerIdentityHandler} or {@link
   *     PeerAuthorizationHandler} in its pipeline, or it is not active yet
   */
  public static PeerIdentity identity(Channel channel) {
    PeerIdentity identity = Objects.requireNonNull(channel, "channel").attr(IDENTITY).get();
    if (identity == null) {
      throw new IllegalStateException(
          "peercred: channel "
              + channel
              + " has no peer identity. Is PeerIdentityHandler (or PeerAuthorizationHandler) the"
              + " first handler of its pipeline, and is the channel a Unix domain socket?");
    }
    return identity;
  }

  /** Returns the identity of {@code channel}'s peer; empty if it has none (yet). */
  public static Optional<PeerIdentity> find(Channel channel) {
    return Optional.ofNullable(Objects.requireNonNull(channel, "channel").attr(IDENTITY).get());
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (identify(ctx) != null) {
      ctx.fireChannelActive();
    }
  }

  /**
   * Reads and attaches the identity if the channel has none yet; on failure logs, closes the
   * channel and returns null. Call on the channel's event loop.
   */
  static PeerIdentity identify(ChannelHandlerContext ctx) {
    Channel channel = ctx.channel();
    PeerIdentity existing = channel.attr(IDENTITY).get();
    if (existing != null) {
      return existing;
    }
    try {
      if (!(channel instanceof DomainSocketChannel unix)) {
        throw new IOException(
            "not a Unix domain socket channel: " + channel.getClass().getSimpleName());
      }
      if (!channel.isOpen()) {
        throw new java.nio.channels.ClosedChannelException();
      }
      PeerIdentity identity = PeerIdentity.read(unix.fd().intValue());
      channel.attr(IDENTITY).set(identity);
      channel.closeFuture().addListener(closed -> identity.close());
      return identity;
    } catch (IOException | RuntimeException e) {
      // Fail closed: a channel whose peer is unknown never reaches the application.
      LOG.log(
          Level.WARNING,
          "closing channel {0}: cannot read the peer''s identity: {1}",
          channel,
          e.toString());
      ctx.close();
      return null;
    }
  }
}
