package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that connect and never send, and clients that send without ever reading the answers (so
 * the server's writes to them block), do not stall accepting or serving anyone else: each
 * connection waits on its own virtual thread, parked, holding no carrier.
 */
@Timeout(120)
class EchoServerHostilePeersTest {
  @TempDir Path dir;

  @Test
  void idleAndNonReadingClientsDoNotStallOtherClients() throws Exception {
    Path socket = dir.resolve("echo.sock");
    EchoServer server =
        new EchoServer(UnixListener.bind(socket), PeerCredentials.ofCurrentProcess().uid());
    Thread acceptor = Thread.ofPlatform().name("echo-accept").start(server::run);
    List<UnixConnection> hostile = new ArrayList<>();
    List<Thread> flooders = new ArrayList<>();
    try {
      for (int i = 0; i < 300; i++) {
        hostile.add(UnixConnection.connect(socket)); // connects, never sends
      }
      for (int i = 0; i < 20; i++) {
        UnixConnection flooder = UnixConnection.connect(socket);
        hostile.add(flooder);
        flooders.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      byte[] lines =
                          "0123456789abcdef\n".repeat(4096).getBytes(StandardCharsets.US_ASCII);
                      try {
                        while (true) {
                          flooder.writeFully(lines, 0, lines.length); // never reads the echoes
                        }
                      } catch (Exception e) {
                        // closed at the end of the test
                      }
                    }));
      }
      // The flooders' and the server's buffers fill: every flooder's write waits for room.
      Await.blocked(flooders, "NativeSocket.await");

      for (int i = 0; i < 50; i++) {
        try (UnixConnection client = UnixConnection.connect(socket)) {
          client.setReadTimeout(Await.TIMEOUT);
          assertEquals("> hello " + i, EchoProcess.roundTrip(client, "hello " + i));
        }
      }
    } finally {
      hostile.forEach(UnixConnection::close);
      for (Thread t : flooders) {
        t.join(Await.TIMEOUT);
      }
      server.close();
      acceptor.join(Await.TIMEOUT);
    }
  }
}
