package dev.peercred.netty;

import dev.peercred.PeerIdentity;
import dev.peercred.policy.Audit;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets a Netty Unix domain socket channel reach the rest of its pipeline only if its peer satisfies
 * a {@link Policy}, like {@link dev.peercred.policy.AuthorizingListener} does for peercred's own
 * listener: the peer's identity is read ({@link PeerIdentityHandler#IDENTITY}), the policy decides
 * (fail closed: a policy that throws or cannot decide denies), the decision is {@linkplain Audit
 * audited} (a {@code dev.peercred.audit} log line and a {@code dev.peercred.ConnectionDecision} JFR
 * event), and a refused channel is sent the refusal message, if any, and closed (after its end of
 * stream and a short drain of what the peer still sends, as {@link
 * dev.peercred.UnixConnection#refuse(String)} does). The handlers after this one see an allowed
 * channel become active, and never see a refused one at all.
 *
 * {@snippet class = dev.peercred.examples.netty.NettyEchoServer region = policy}
 *
 * <p><b>Off the event loop.</b> Policies may read names (NSS, which can wait on the network) and
 * {@code /proc} (which can wait on the peer), so by default the decision and its audit run on a
 * virtual thread, and the channel reads nothing until it is decided: its auto-read is off meanwhile
 * and restored after. Only the identity read (a few {@code getsockopt} calls, see {@link
 * PeerIdentityHandler}) and the outcome (forwarding or closing) run on the event loop. A policy of
 * credentials only ({@link Policy#uid(long...)}, {@link Policy#gid(long...)}, {@link
 * Policy#sameUser()}, {@link Policy#root()}) blocks on nothing and may run on the event loop
 * itself: {@link Builder#decideOnEventLoop()}.
 *
 * <p>Add it first in the pipeline (in place of {@link PeerIdentityHandler}, which it includes). The
 * handler is {@linkplain ChannelHandler.Sharable sharable}: one instance serves every channel, and
 * counts its {@link #refusals()}.
 */
@ChannelHandler.Sharable
public final class PeerAuthorizationHandler extends ChannelInboundHandlerAdapter {
  /** The article's refusal message, {@code "Unauthorized access\n"}. */
  public static final String UNAUTHORIZED = "Unauthorized access\n";

  /** How long, and how much, a refused channel's input is drained before it is closed. */
  private static final long DRAIN_MILLIS = 200;

  private static final long DRAIN_BYTES = 1 << 20;

  private static final AttributeKey<Pending> PENDING =
      AttributeKey.valueOf(PeerAuthorizationHandler.class, "pending");

  private static final Executor VIRTUAL_THREADS =
      Executors.newThreadPerTaskExecutor(
          Thread.ofVirtual().name("peercred-netty-policy").factory());

  private final Policy policy;
  private final byte[] refusal;
  private final Executor executor;
  private final AtomicLong refusals = new AtomicLong();

  private PeerAuthorizationHandler(Builder builder) {
    this.policy = builder.policy;
    this.refusal =
        builder.refusal == null ? null : builder.refusal.getBytes(StandardCharsets.UTF_8);
    this.executor = builder.executor;
  }

  /**
   * Returns a handler that closes refused channels without a message, deciding on virtual threads.
   *
   * @throws NullPointerException if {@code policy} is null
   */
  public static PeerAuthorizationHandler of(Policy policy) {
    return builder(policy).build();
  }

  /**
   * Returns a builder for a handler enforcing {@code policy}.
   *
   * @throws NullPointerException if {@code policy} is null
   */
  public static Builder builder(Policy policy) {
    return new Builder(policy);
  }

  /** Configures a {@link PeerAuthorizationHandler}. Not thread-safe. */
  public static final class Builder {
    private final Policy policy;
    private String refusal;
    private Executor executor = VIRTUAL_THREADS;

    private Builder(Policy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
    }

    /**
     * Sends {@code message} (UTF-8) to a refused peer before closing its channel, for example
     * {@link PeerAuthorizationHandler#UNAUTHORIZED}.
     */
    public Builder refusalMessage(String message) {
      this.refusal = Objects.requireNonNull(message, "message");
      return this;
    }

    /**
     * Decides on {@code executor} instead of a new virtual thread per channel; the outcome is
     * always applied on the channel's event loop. A rejected task denies the channel.
     */
    public Builder decideOn(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Decides and audits on the channel's event loop, without a thread switch: only for policies
     * that block on nothing, such as those of credentials only (uids, gids, same user, root).
     */
    public Builder decideOnEventLoop() {
      this.executor = null;
      return this;
    }

    /** Returns the handler. */
    public PeerAuthorizationHandler build() {
      return new PeerAuthorizationHandler(this);
    }
  }

  /** A channel's state until it is decided, touched on its event loop only. */
  private static final class Pending {
    final boolean autoRead;
    final boolean halfClosure;
    final List<Object> messages = new ArrayList<>(0);
    final List<Object> shutdownEvents = new ArrayList<>(0);
    boolean decided;
    long drained;

    Pending(ChannelConfig config) {
      this.autoRead = config.isAutoRead();
      this.halfClosure = Boolean.TRUE.equals(config.getOption(ChannelOption.ALLOW_HALF_CLOSURE));
    }

    void release() {
      messages.forEach(ReferenceCountUtil::release);
      messages.clear();
    }
  }

  /** The policy channels are checked against. */
  public Policy policy() {
    return policy;
  }

  /** How many channels were refused so far. */
  public long refusals() {
    return refusals.get();
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    PeerIdentity peer = PeerIdentityHandler.identify(ctx);
    if (peer == null) {
      return; // closed, and logged
    }
    Channel channel = ctx.channel();
    Pending pending = new Pending(channel.config());
    channel.attr(PENDING).set(pending);
    channel.config().setAutoRead(false);
    if (executor != null) {
      // A peer that half-closes while we decide must not get the channel closed under us (Netty
      // reads the end of input even with auto-read off): hold the end of input too, then replay it.
      channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    }
    if (executor == null) {
      apply(ctx, pending, peer, decideAndAudit(channel, peer));
      return;
    }
    try {
      executor.execute(
          () -> {
            Decision decision;
            try {
              decision = decideAndAudit(channel, peer);
            } catch (RuntimeException | Error e) {
              channel.eventLoop().execute(ctx::close);
              throw e;
            }
            try {
              channel.eventLoop().execute(() -> apply(ctx, pending, peer, decision));
            } catch (RejectedExecutionException e) {
              channel.close(); // the event loop is shutting down
            }
          });
    } catch (RejectedExecutionException e) {
      Decision decision = Decision.error("the policy's executor rejected the decision: " + e);
      Audit.connection(peer, decision, endpoint(channel));
      apply(ctx, pending, peer, decision);
    }
  }

  private Decision decideAndAudit(Channel channel, PeerIdentity peer) {
    Decision decision = policy.decide(peer); // fails closed: a throw is an ERROR
    Audit.connection(peer, decision, endpoint(channel));
    return decision;
  }

  private static String endpoint(Channel channel) {
    return String.valueOf(channel.localAddress());
  }

  /** On the event loop: lets the channel through, or refuses it. */
  private void apply(ChannelHandlerContext ctx, Pending pending, PeerIdentity peer, Decision d) {
    if (pending.decided) {
      return;
    }
    pending.decided = true;
    Channel channel = ctx.channel();
    if (!d.allowed()) { // the attribute stays: nothing more of this channel passes
      pending.release();
      refusals.incrementAndGet();
      refuse(ctx, pending);
      return;
    }
    if (!channel.isActive()) {
      pending.release();
      return;
    }
    channel.attr(PENDING).set(null);
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, pending.halfClosure);
    ctx.fireChannelActive();
    if (!pending.messages.isEmpty()) {
      pending.messages.forEach(ctx::fireChannelRead);
      pending.messages.clear();
      ctx.fireChannelReadComplete();
    }
    ctx.pipeline().remove(this);
    if (!pending.shutdownEvents.isEmpty()) {
      if (pending.halfClosure) {
        pending.shutdownEvents.forEach(ctx::fireUserEventTriggered);
      } else {
        ctx.close(); // what Netty does at the end of input without half-closure
      }
      return;
    }
    if (pending.autoRead) {
      channel.config().setAutoRead(true);
    }
  }

  /**
   * Closes a refused channel as {@link dev.peercred.UnixConnection#refuse(String)} does: the
   * message, then end of stream, then what the peer still sends is read and dropped for a while, so
   * that a peer that writes before it reads gets the message and a clean end of stream rather than
   * a broken pipe or a reset.
   */
  private void refuse(ChannelHandlerContext ctx, Pending pending) {
    Channel channel = ctx.channel();
    if (!channel.isActive()) {
      ctx.close();
      return;
    }
    ChannelFuture sent =
        refusal == null
            ? ctx.newSucceededFuture()
            : ctx.writeAndFlush(Unpooled.wrappedBuffer(refusal));
    if (!pending.shutdownEvents.isEmpty() || !(channel instanceof DuplexChannel duplex)) {
      sent.addListener(ChannelFutureListener.CLOSE); // the peer's input is all read already
      return;
    }
    sent.addListener(
        written -> {
          if (!written.isSuccess()) {
            ctx.close();
            return;
          }
          duplex
              .shutdownOutput()
              .addListener(
                  shut -> {
                    if (!shut.isSuccess()) {
                      ctx.close();
                      return;
                    }
                    ctx.executor().schedule(() -> ctx.close(), DRAIN_MILLIS, TimeUnit.MILLISECONDS);
                    channel.config().setAutoRead(true);
                  });
        });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Pending pending = ctx.channel().attr(PENDING).get();
    if (pending == null) {
      ctx.fireChannelRead(msg);
    } else if (!pending.decided) {
      pending.messages.add(msg); // held until the decision: nothing passes an undecided channel
    } else { // refused: drained
      if (msg instanceof ByteBuf bytes) {
        pending.drained += bytes.readableBytes();
      }
      ReferenceCountUtil.release(msg);
      if (pending.drained > DRAIN_BYTES) {
        ctx.close();
      }
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (ctx.channel().attr(PENDING).get() == null) {
      ctx.fireChannelReadComplete();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    Pending pending = ctx.channel().attr(PENDING).get();
    boolean endOfInput =
        event instanceof ChannelInputShutdownEvent
            || event instanceof ChannelInputShutdownReadComplete;
    if (pending == null || !endOfInput) {
      ctx.fireUserEventTriggered(event);
    } else if (!pending.decided) {
      pending.shutdownEvents.add(event);
    } else {
      ctx.close(); // refused, and the peer has sent all it will
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Pending pending = ctx.channel().attr(PENDING).get();
    if (pending != null) {
      pending.release();
      return; // undecided or refused: the handlers after this one never saw it active
    }
    ctx.fireChannelInactive();
  }

  @Override
  public String toString() {
    return "PeerAuthorizationHandler[" + policy + "]";
  }
}
