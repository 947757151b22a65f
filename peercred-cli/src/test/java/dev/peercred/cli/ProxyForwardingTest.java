package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.peercred.UnixConnection;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** How bytes and ends of stream cross the proxy, against small in-test backends. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProxyForwardingTest {
  @TempDir Path dir;

  /** Runs {@code handler} for every connection to a JDK Unix-socket server at {@code path}. */
  static ServerSocketChannel backend(Path path, Consumer<SocketChannel> handler)
      throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    Thread.ofVirtual()
        .start(
            () -> {
              while (server.isOpen()) {
                try {
                  SocketChannel c = server.accept();
                  Thread.ofVirtual().start(() -> handler.accept(c));
                } catch (IOException e) {
                  return;
                }
              }
            });
    return server;
  }

  Cli.Running proxy(Path backend) throws Exception {
    Files.writeString(dir.resolve("policy"), "allow root\n");
    Cli.Running proxy =
        new Cli.Running(
            Cli.peercred(
                "proxy",
                "--listen",
                dir.resolve("proxy.sock").toString(),
                "--to",
                backend.toString(),
                "--policy",
                dir.resolve("policy").toString(),
                "--audit",
                dir.resolve("audit").toString()),
            null);
    proxy.awaitErr(line -> line.contains("listening on"), Duration.ofSeconds(30));
    return proxy;
  }

  @Test
  void halfCloseCrossesTheProxyBothWays() throws Exception {
    // The backend counts what it reads until end of stream, answers the count, then ends.
    Path backendPath = dir.resolve("backend.sock");
    try (ServerSocketChannel server =
            backend(
                backendPath,
                c -> {
                  try (c) {
                    long total = 0;
                    ByteBuffer buffer = ByteBuffer.allocate(65536);
                    int n;
                    while ((n = c.read(buffer.clear())) >= 0) {
                      total += n;
                    }
                    c.write(ByteBuffer.wrap((total + "\n").getBytes(StandardCharsets.UTF_8)));
                  } catch (IOException e) {
                    // test fails on the client side
                  }
                });
        Cli.Running proxy = proxy(backendPath);
        UnixConnection client = UnixConnection.connect(dir.resolve("proxy.sock"))) {
      byte[] data = new byte[3 << 20];
      client.outputStream().write(data);
      client.shutdownOutput();
      byte[] answer = client.inputStream().readAllBytes();
      assertEquals((3 << 20) + "\n", new String(answer, StandardCharsets.UTF_8));
    }
  }

  /**
   * A backend that answers and hangs up without reading the request (as an HTTP server answering an
   * error does): every byte it sent must reach the client, followed by a clean end of stream,
   * whichever of the request and the hang-up reaches the proxy first. Repeated, because the order
   * differs from one connection to the next: the request may arrive before the backend closes (then
   * the backend's close resets the proxy's backend socket after the answer), or after it (then
   * forwarding the request fails with EPIPE).
   */
  @Test
  void backendThatHangsUpWithoutReadingDeliversItsAnswerEveryTime() throws Exception {
    Path backendPath = dir.resolve("backend.sock");
    byte[] bye = "bye\n".getBytes(StandardCharsets.UTF_8);
    byte[] hello = "hello\n".getBytes(StandardCharsets.UTF_8);
    try (ServerSocketChannel server =
            backend(
                backendPath,
                c -> {
                  try (c) {
                    c.write(ByteBuffer.wrap(bye));
                  } catch (IOException e) {
                    // the client's assertion tells
                  }
                });
        Cli.Running proxy = proxy(backendPath)) {
      for (int i = 0; i < 1000; i++) {
        try (UnixConnection client = UnixConnection.connect(dir.resolve("proxy.sock"))) {
          client.setReadTimeout(Duration.ofSeconds(20));
          byte[] answer;
          if (i % 2 == 0) {
            // Request first: it races the backend's hang-up. The client never ends its output;
            // the hang-up alone must end the connection.
            client.outputStream().write(hello);
            answer = Channels.newInputStream(client).readAllBytes();
          } else {
            // Request after the answer: the backend has surely closed before it is forwarded.
            byte[] first = client.inputStream().readNBytes(bye.length);
            client.outputStream().write(hello);
            byte[] rest = client.inputStream().readAllBytes();
            answer = java.util.Arrays.copyOf(first, first.length + rest.length);
            System.arraycopy(rest, 0, answer, first.length, rest.length);
          }
          assertArrayEquals(bye, answer, "connection " + i);
        }
      }
    }
  }
}
