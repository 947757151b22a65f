package dev.peercred.netty;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/** A Netty server on a Unix socket with one event-loop thread, echoing what allowed peers send. */
final class NettyServer implements AutoCloseable {
  final EventLoopGroup group;
  final Channel channel;
  final AtomicInteger activations = new AtomicInteger();

  NettyServer(
      IoHandlerFactory io,
      Class<? extends ServerChannel> type,
      Path socket,
      Supplier<ChannelHandler> first)
      throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, io);
    channel =
        new ServerBootstrap()
            .group(group)
            .channel(type)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(first.get(), new Echo());
                  }
                })
            .bind(new DomainSocketAddress(socket.toFile()))
            .sync()
            .channel();
    Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
  }

  /** Echoes with the peer's uid: {@code uid=U > LINE}. */
  final class Echo extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      activations.incrementAndGet();
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      long uid = PeerIdentityHandler.identity(ctx.channel()).uid();
      ctx.write(ctx.alloc().buffer().writeBytes(("uid=" + uid + " > ").getBytes()));
      ctx.writeAndFlush(in);
    }
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 5, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
