package dev.peercred.examples.netty;

import dev.peercred.PeerIdentity;
import dev.peercred.netty.PeerAuthorizationHandler;
import dev.peercred.netty.PeerIdentityHandler;
import dev.peercred.policy.Policy;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The article's echo server on Netty's epoll domain sockets: every line comes back prefixed with
 * {@code "> "}, to callers the policy allows (by default the server's own user); others read {@code
 * "Unauthorized access\n"} and are closed. The first line also says who the server thinks the
 * caller is.
 */
public final class NettyEchoServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;

  private NettyEchoServer(EventLoopGroup group, Channel channel) {
    this.group = group;
    this.channel = channel;
  }

  /** Starts the server on {@code socket}; {@code policy} decides who is served. */
  public static NettyEchoServer start(Path socket, Policy policy) throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try {
      // @start region = policy
      PeerAuthorizationHandler authorization =
          PeerAuthorizationHandler.builder(policy)
              .refusalMessage(PeerAuthorizationHandler.UNAUTHORIZED)
              .build(); // decides on a virtual thread: policies may read names and /proc
      ServerBootstrap bootstrap =
          new ServerBootstrap()
              .group(group)
              .channel(EpollServerDomainSocketChannel.class)
              .childHandler(
                  new ChannelInitializer<DomainSocketChannel>() {
                    @Override
                    protected void initChannel(DomainSocketChannel ch) {
                      ch.pipeline().addLast(authorization, new Echo()); // the policy goes first
                    }
                  });
      // @end
      Channel channel = bootstrap.bind(new DomainSocketAddress(socket.toFile())).sync().channel();
      return new NettyEchoServer(group, channel);
    } catch (RuntimeException | InterruptedException e) {
      group.shutdownGracefully();
      throw e;
    }
  }

  /** Greets the caller by identity, then echoes every line. */
  // @start region = identity
  static final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      PeerIdentity caller = PeerIdentityHandler.identity(ctx.channel()); // read at connect
      ctx.writeAndFlush(
          ctx.alloc()
              .buffer()
              .writeBytes(("hello " + caller + "\n").getBytes(StandardCharsets.UTF_8)));
      ctx.fireChannelActive();
    }

    // @end

    private final StringBuilder line = new StringBuilder();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      try {
        String text = in.toString(StandardCharsets.UTF_8);
        for (int i = 0; i < text.length(); i++) {
          char c = text.charAt(i);
          line.append(c);
          if (c == '\n') {
            ctx.write(
                ctx.alloc().buffer().writeBytes(("> " + line).getBytes(StandardCharsets.UTF_8)));
            line.setLength(0);
          }
        }
        ctx.flush();
      } finally {
        in.release();
      }
    }
  }

  /** The listening channel. */
  public Channel channel() {
    return channel;
  }

  /** Closes the listener and stops the event loop. */
  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully().syncUninterruptibly();
  }

  /** Runs the server: {@code NettyEchoServer [SOCKET]}, default {@code /tmp/netty-echo.sock}. */
  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args.length > 0 ? args[0] : "/tmp/netty-echo.sock");
    try (NettyEchoServer server = start(socket, Policy.sameUser())) {
      System.out.println("listening on " + socket);
      server.channel().closeFuture().sync();
    }
  }
}
