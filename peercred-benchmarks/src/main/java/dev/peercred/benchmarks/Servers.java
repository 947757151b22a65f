package dev.peercred.benchmarks;

import dev.peercred.PeerCredentials;
import dev.peercred.examples.EchoServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.ByteProcessor;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.newsclub.net.unix.AFUNIXServerSocket;
import org.newsclub.net.unix.AFUNIXSocket;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * The reference echo servers, one per way of reading the peer's credentials. Each answers only its
 * own uid, prefixes every line with {@code "> "}, and refuses everyone else with {@code
 * "Unauthorized access\n"}.
 *
 * <p>Run as {@code Servers KIND SOCKET} with KIND one of {@code peercred}, {@code jdk}, {@code
 * netty}, {@code junixsocket}. It prints {@code ready} once it listens; on standard input, the line
 * {@code heap} makes it collect garbage and print {@code heap <used bytes>}.
 */
public final class Servers {
  private Servers() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: Servers peercred|peercred-threads|jdk|netty|junixsocket SOCKET");
      System.exit(2);
    }
    Path socket = Path.of(args[1]);
    Files.deleteIfExists(socket);
    long uid = PeerCredentials.ofCurrentProcess().uid();
    Runnable serve =
        switch (args[0]) {
          case "peercred" -> peercred(socket);
          case "peercred-threads" -> peercredThreads(socket);
          case "jdk" -> jdk(socket);
          case "netty" -> netty(socket, uid);
          case "junixsocket" -> junixsocket(socket, uid);
          default -> throw new IllegalArgumentException("unknown server kind: " + args[0]);
        };
    Thread control = new Thread(Servers::control, "control");
    control.setDaemon(true);
    control.start();
    System.out.println("ready");
    System.out.flush();
    serve.run();
  }

  /** Answers the runner's questions on standard input; exits when the runner goes away. */
  private static void control() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (line.equals("heap")) {
          System.gc();
          var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
          System.out.println("heap " + heap.getUsed() + " " + heap.getCommitted());
          System.out.flush();
        }
      }
    } catch (IOException e) {
      // fall through: the runner is gone
    }
    System.exit(0);
  }

  /** peercred's own example server: virtual thread per connection on peercred's sockets. */
  private static Runnable peercred(Path socket) throws IOException {
    EchoServer server = EchoServer.bind(socket);
    return server::run;
  }

  /**
   * peercred's example server on a platform thread per connection, as a thread-per-connection
   * server (junixsocket's way here) would use peercred's sockets: the same {@link
   * EchoServer#serve}, only the threads differ.
   */
  private static Runnable peercredThreads(Path socket) throws IOException {
    EchoServer server = EchoServer.bind(socket);
    return acceptLoop(
        server.listener()::accept,
        Thread.ofPlatform(),
        connection -> {
          try (connection) {
            server.serve(connection);
          } catch (IOException e) {
            // connection ended
          }
        });
  }

  /** Something that accepts connections: a listener's {@code accept()}. */
  @FunctionalInterface
  private interface Acceptor<T> {
    T accept() throws IOException;
  }

  /**
   * A thread-per-connection server's accept loop: each accepted connection is served on a thread of
   * {@code threads}; a failing accept (the descriptor limit, say) is retried after a pause.
   */
  private static <T> Runnable acceptLoop(
      Acceptor<T> acceptor, Thread.Builder threads, Consumer<T> serve) {
    return () -> {
      while (true) {
        T connection;
        try {
          connection = acceptor.accept();
        } catch (IOException e) {
          pause();
          continue;
        }
        threads.start(() -> serve.accept(connection));
      }
    };
  }

  /**
   * The JDK alone: {@code ServerSocketChannel} on a Unix socket, a virtual thread per connection,
   * and {@code SO_PEERCRED} through {@link ExtendedSocketOptions}, which gives names, not ids.
   */
  private static Runnable jdk(Path socket) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket), 4096);
    String self = System.getProperty("user.name");
    return acceptLoop(server::accept, Thread.ofVirtual(), channel -> serveJdk(channel, self));
  }

  private static void serveJdk(SocketChannel channel, String self) {
    try (channel) {
      UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
      if (!peer.user().getName().equals(self)) {
        channel.write(ByteBuffer.wrap(LineEcho.UNAUTHORIZED));
        channel.shutdownOutput();
        return;
      }
      LineEcho echo = new LineEcho();
      byte[] in = new byte[LineEcho.INITIAL_BUFFER];
      ByteBuffer buffer = ByteBuffer.wrap(in);
      while (true) {
        buffer.clear();
        int n = channel.read(buffer);
        if (n < 0 || !echo.accept(in, n)) {
          return;
        }
        if (LineEcho.grow(in, n) != in) {
          in = LineEcho.grow(in, n);
          buffer = ByteBuffer.wrap(in);
        }
        ByteBuffer out = ByteBuffer.wrap(echo.out(), 0, echo.outLength());
        while (out.hasRemaining()) {
          channel.write(out);
        }
      }
    } catch (IOException e) {
      // connection ended
    }
  }

  /** Netty's epoll transport with {@code EpollDomainSocketChannel.peerCredentials()}. */
  private static Runnable netty(Path socket, long uid) {
    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    EventLoopGroup workers =
        new MultiThreadIoEventLoopGroup(
            Runtime.getRuntime().availableProcessors(), EpollIoHandler.newFactory());
    ByteBuf prefix = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(new byte[] {'>', ' '}));
    ByteBuf unauthorized =
        Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(LineEcho.UNAUTHORIZED));
    var bootstrap =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(EpollServerDomainSocketChannel.class)
            .option(io.netty.channel.ChannelOption.SO_BACKLOG, 4096)
            // Finish sending the echo after the client shuts down its output, like the others.
            .childOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childHandler(
                new ChannelInitializer<EpollDomainSocketChannel>() {
                  @Override
                  protected void initChannel(EpollDomainSocketChannel ch) throws Exception {
                    if (ch.peerCredentials().uid() != uid) {
                      ch.writeAndFlush(unauthorized.duplicate())
                          .addListener(ChannelFutureListener.CLOSE);
                      return;
                    }
                    ch.pipeline().addLast(new NettyLineEcho(prefix));
                  }
                });
    bootstrap.bind(new DomainSocketAddress(socket.toFile())).syncUninterruptibly();
    return () -> {
      try {
        Thread.sleep(Long.MAX_VALUE);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  /** Echoes complete lines with the prefix; keeps a partial line until its newline arrives. */
  private static final class NettyLineEcho extends ChannelInboundHandlerAdapter {
    private final ByteBuf prefix;
    private ByteBuf pending;

    NettyLineEcho(ByteBuf prefix) {
      this.prefix = prefix;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf in = (ByteBuf) msg;
      try {
        int start = in.readerIndex();
        int end = in.writerIndex();
        while (start < end) {
          int lf = in.forEachByte(start, end - start, ByteProcessor.FIND_LF);
          if (lf < 0) {
            break;
          }
          ctx.write(prefix.duplicate());
          if (pending != null) {
            ctx.write(pending);
            pending = null;
          }
          ctx.write(in.retainedSlice(start, lf + 1 - start));
          start = lf + 1;
        }
        if (start < end) {
          if (pending == null) {
            pending = ctx.alloc().buffer(end - start);
          }
          if (pending.readableBytes() + end - start > LineEcho.MAX_LINE) {
            ctx.close();
            return;
          }
          pending.writeBytes(in, start, end - start);
        }
      } finally {
        in.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (pending != null) {
        pending.release();
        pending = null;
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (event instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
      ctx.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable t) {
      ctx.close();
    }
  }

  /** junixsocket with {@code getPeerCredentials()}, a platform thread per connection. */
  private static Runnable junixsocket(Path socket, long uid) throws IOException {
    AFUNIXServerSocket server = AFUNIXServerSocket.newInstance();
    server.bind(AFUNIXSocketAddress.of(new File(socket.toString())), 4096);
    return acceptLoop(server::accept, Thread.ofPlatform(), client -> serveJunixsocket(client, uid));
  }

  private static void serveJunixsocket(AFUNIXSocket client, long uid) {
    try (client) {
      OutputStream out = client.getOutputStream();
      if (client.getPeerCredentials().getUid() != uid) {
        out.write(LineEcho.UNAUTHORIZED);
        client.shutdownOutput();
        return;
      }
      InputStream in = client.getInputStream();
      LineEcho echo = new LineEcho();
      byte[] buffer = new byte[LineEcho.INITIAL_BUFFER];
      while (true) {
        int n = in.read(buffer);
        if (n < 0 || !echo.accept(buffer, n)) {
          return;
        }
        buffer = LineEcho.grow(buffer, n);
        out.write(echo.out(), 0, echo.outLength());
      }
    } catch (IOException e) {
      // connection ended
    }
  }

  private static void pause() {
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
