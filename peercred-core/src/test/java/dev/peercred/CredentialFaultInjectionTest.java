package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.internal.linux.Errno;
import dev.peercred.testing.Await;
import dev.peercred.testing.Descriptors;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Makes the credential read of accepted connections fail (through the listener's package-private
 * fault hook) and checks that such connections are refused and closed, never handed out, while the
 * listener goes on accepting.
 */
@Timeout(120)
class CredentialFaultInjectionTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "errno {0}")
  @ValueSource(ints = {Errno.EINVAL, Errno.ENOTCONN, Errno.EBADF, Errno.ENOMEM, Errno.EOPNOTSUPP})
  void connectionWhoseCredentialsCannotBeReadIsClosedAndNeverReturned(int errno) throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"))) {
      listener.credentialReadFault = errno;
      CompletableFuture<UnixConnection> accepted = acceptAsync(listener);
      List<UnixConnection> refused = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        UnixConnection client =
            UnixConnection.connect(listener.localAddress().path().orElseThrow());
        refused.add(client);
      }
      Await.until("three refused connections", () -> listener.credentialFailures() == 3);
      for (UnixConnection client : refused) {
        assertClosedByServer(client);
        client.close();
      }
      assertFalse(accepted.isDone(), "accept() returned a connection whose credentials failed");

      listener.credentialReadFault = 0;
      try (UnixConnection good = UnixConnection.connect(dir.resolve("s"))) {
        good.writeFully("ok".getBytes(StandardCharsets.US_ASCII), 0, 2);
        try (UnixConnection served = accepted.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          assertEquals(PeerCredentials.ofCurrentProcess(), served.peerCredentials());
          byte[] two = new byte[2];
          assertEquals(2, served.inputStream().readNBytes(two, 0, 2));
          assertEquals("ok", new String(two, StandardCharsets.US_ASCII));
        }
      }
      assertEquals(3, listener.credentialFailures());
    }
  }

  @Test
  void failuresAreCountedAndListenerKeepsAcceptingUnderLoad() throws Exception {
    var baseline = DescriptorBaseline.take();
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"))) {
      listener.credentialReadFault = Errno.EINVAL;
      CompletableFuture<UnixConnection> accepted = acceptAsync(listener);
      for (int i = 0; i < 500; i++) {
        try (UnixConnection client = UnixConnection.connect(dir.resolve("s"))) {
          client.writeFully(new byte[] {1}, 0, 1);
        } catch (SocketException e) {
          // EPIPE or ECONNRESET: the listener refused and closed it first, as it should
        }
      }
      Await.until("500 refused connections", () -> listener.credentialFailures() == 500);
      assertFalse(accepted.isDone());
      listener.credentialReadFault = 0;
      try (UnixConnection client = UnixConnection.connect(dir.resolve("s"));
          UnixConnection served = accepted.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        assertTrue(served.isOpen());
      }
    }
    Descriptors.awaitBackTo(baseline);
  }

  private static void assertClosedByServer(UnixConnection client) throws IOException {
    client.setReadTimeout(Await.TIMEOUT);
    byte[] buffer = new byte[16];
    try {
      assertEquals(-1, client.inputStream().read(buffer), "refused connection sent data");
    } catch (SocketException e) {
      assertTrue(e.getMessage().contains("ECONNRESET"), e.getMessage());
    }
  }

  static CompletableFuture<UnixConnection> acceptAsync(UnixListener listener) {
    CompletableFuture<UnixConnection> future = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                future.complete(listener.accept());
              } catch (Throwable t) {
                future.completeExceptionally(t);
              }
            });
    return future;
  }
}
