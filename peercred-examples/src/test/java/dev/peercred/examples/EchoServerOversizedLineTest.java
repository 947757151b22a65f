package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.testing.Await;
import dev.peercred.testing.ChildProcess;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sends 100 MB lines to the echo and key-value servers running with a 64 MB heap: each client gets
 * an error line and a close after about the line limit, and the server neither runs out of memory
 * nor stops serving.
 */
@Timeout(300)
class EchoServerOversizedLineTest {
  private static final long HUNDRED_MB = 100L << 20;

  @TempDir Path dir;

  @Test
  void hundredMegabyteLinesGetAnErrorAndACloseNeverOutOfMemory() throws Exception {
    try (EchoProcess echo = EchoProcess.start(dir, List.of(), "-Xmx64m")) {
      List<CompletableFuture<Long>> writers = new ArrayList<>();
      List<CompletableFuture<String>> readers = new ArrayList<>();
      List<UnixConnection> clients = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        UnixConnection client = UnixConnection.connect(echo.socket);
        client.setReadTimeout(Await.TIMEOUT);
        clients.add(client);
        writers.add(writeHugeLine(client));
        readers.add(readUntilClosed(client));
      }
      String expected = "error: line longer than " + EchoServer.MAX_LINE + " bytes\n";
      for (int i = 0; i < 4; i++) {
        assertEquals(
            expected, readers.get(i).get(ChildProcess.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        long written = writers.get(i).get(ChildProcess.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertTrue(written < HUNDRED_MB, "the server read the whole line: " + written);
        System.out.printf("client %d: cut off after %d bytes sent%n", i, written);
        clients.get(i).close();
      }
      assertTrue(echo.process.isAlive(), echo.log());
      assertEquals("> still here", echo.roundTrip("still here"));
      String longest = "y".repeat(EchoServer.MAX_LINE);
      assertEquals("> " + longest, echo.roundTrip(longest), "a line at the limit is echoed");
      assertFalse(echo.log().contains("OutOfMemoryError"), echo.log());
    }
  }

  @Test
  void kvServerAnswersAHundredMegabyteCommandWithAnErrorNeverOutOfMemory() throws Exception {
    try (EchoProcess kv = EchoProcess.start(dir, List.of(), KvServer.class, "-Xmx64m")) {
      UnixConnection client = UnixConnection.connect(kv.socket);
      client.setReadTimeout(Await.TIMEOUT);
      CompletableFuture<Long> writer = writeHugeLine(client);
      CompletableFuture<String> reader = readUntilClosed(client);
      assertEquals(
          "error: line longer than " + KvServer.MAX_LINE + " bytes\n",
          reader.get(ChildProcess.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
      assertTrue(writer.get(ChildProcess.TIMEOUT.toSeconds(), TimeUnit.SECONDS) < HUNDRED_MB);
      client.close();
      assertTrue(kv.process.isAlive(), kv.log());
      assertEquals("ok", kv.roundTrip("set k v"));
      assertEquals("ok v", kv.roundTrip("get k"));
      assertFalse(kv.log().contains("OutOfMemoryError"), kv.log());
    }
  }

  /** Writes a 100 MB line without newline; completes with the bytes written when cut off. */
  private static CompletableFuture<Long> writeHugeLine(UnixConnection client) {
    CompletableFuture<Long> future = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              byte[] chunk = new byte[1 << 20];
              Arrays.fill(chunk, (byte) 'x');
              long written = 0;
              try {
                while (written < HUNDRED_MB) {
                  client.writeFully(chunk, 0, chunk.length);
                  written += chunk.length;
                }
                future.complete(written);
              } catch (SocketException e) { // EPIPE or ECONNRESET: the server hung up
                future.complete(written);
              } catch (Throwable t) {
                future.completeExceptionally(t);
              }
            });
    return future;
  }

  /** Reads until end of stream or reset; completes with what was read. */
  private static CompletableFuture<String> readUntilClosed(UnixConnection client) {
    CompletableFuture<String> future = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              ByteArrayOutputStream got = new ByteArrayOutputStream();
              byte[] buffer = new byte[4096];
              try {
                int n;
                while ((n = client.inputStream().read(buffer)) > 0) {
                  got.write(buffer, 0, n);
                }
              } catch (SocketException e) {
                // ECONNRESET after the error line: the server closed with our bytes unread
              } catch (IOException | RuntimeException e) {
                future.completeExceptionally(e);
                return;
              }
              future.complete(got.toString(StandardCharsets.UTF_8));
            });
    return future;
  }
}
