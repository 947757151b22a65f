package dev.peercred;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM with or without the export of {@code sun.nio.ch}: connects to itself over a
 * JDK Unix channel and prints {@code ok pid=...} or {@code error Type: message}.
 */
public final class JdkChannelProbe {
  private JdkChannelProbe() {}

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("peercred-probe");
    Path socket = dir.resolve("probe.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
          SocketChannel accepted = server.accept()) {
        PeerCredentials peer = PeerCredentials.of(accepted);
        System.out.println("ok pid=" + peer.pid().orElse(-1));
      } catch (RuntimeException e) {
        System.out.println("error " + e.getClass().getSimpleName() + ": " + e.getMessage());
      }
    } finally {
      Files.deleteIfExists(socket);
      Files.delete(dir);
    }
  }
}
