package dev.peercred.examples.jdk;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import dev.peercred.policy.Audit;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The article's echo server on the JDK's own Unix domain channels ({@code
 * ServerSocketChannel.open(StandardProtocolFamily.UNIX)}): the application keeps its sockets, and
 * peercred reads who is on the other end of each. Needs {@code --add-exports
 * java.base/sun.nio.ch=ALL-UNNAMED} ({@code =dev.peercred} on the module path).
 */
public final class JdkChannelEchoServer {
  private JdkChannelEchoServer() {}

  /**
   * Accepts on {@code socket} until the channel is closed, serving callers {@code policy} allows.
   */
  public static void serve(ServerSocketChannel server, Policy policy) throws IOException {
    // @start region = accept
    long me = PeerCredentials.ofCurrentProcess().uid();
    while (server.isOpen()) {
      SocketChannel channel = server.accept();
      Thread.ofVirtual()
          .start(
              () -> {
                try (channel) {
                  PeerCredentials peer = PeerCredentials.of(channel); // one getsockopt
                  if (!peer.hasUid(me)) {
                    try (PeerIdentity identity = PeerIdentity.of(channel)) { // groups, process...
                      Decision decision = policy.decide(identity); // a second chance by policy
                      Audit.connection(
                          identity, decision, String.valueOf(server.getLocalAddress()));
                      if (!decision.allowed()) {
                        channel.write(StandardCharsets.UTF_8.encode("Unauthorized access\n"));
                        return;
                      }
                    }
                  }
                  echo(channel);
                } catch (IOException e) {
                  // the client went away, or its identity could not be read: closed either way
                }
              });
    }
    // @end
  }

  private static void echo(SocketChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(4096);
    ByteBuffer prefix = StandardCharsets.UTF_8.encode("> ");
    boolean lineStart = true;
    while (channel.read(buffer.clear()) > 0) {
      buffer.flip();
      while (buffer.hasRemaining()) {
        if (lineStart) {
          channel.write(prefix.rewind());
        }
        byte b = buffer.get();
        lineStart = b == '\n';
        channel.write(ByteBuffer.wrap(new byte[] {b}));
      }
    }
  }

  /** Runs the server: {@code JdkChannelEchoServer [SOCKET]}, default {@code /tmp/jdk-echo.sock}. */
  public static void main(String[] args) throws IOException {
    Path socket = Path.of(args.length > 0 ? args[0] : "/tmp/jdk-echo.sock");
    Files.deleteIfExists(socket);
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      System.out.println("listening on " + socket);
      serve(server, Policy.root());
    } finally {
      Files.deleteIfExists(socket);
    }
  }
}
