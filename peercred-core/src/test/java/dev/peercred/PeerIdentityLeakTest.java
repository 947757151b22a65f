package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Every pidfd an identity takes is given back when its connection closes. */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class PeerIdentityLeakTest {
  @TempDir Path dir;

  @Test
  void noDescriptorLeaksOverTenThousandConnectionsWithProcessDetailsRead() throws IOException {
    Path path = dir.resolve("s");
    try (UnixListener listener = UnixListener.bind(path)) {
      run(listener, path, 200, true); // warm up: classes, poller threads, NSS
      long before = PeerIdentityTest.openDescriptors();
      long plain = run(listener, path, 2_000, false);
      long detailed = run(listener, path, 10_000, true);
      long after = PeerIdentityTest.openDescriptors();
      assertEquals(before, after, () -> "descriptors now: " + safeTargets());
      // A measurement for the log, not an assertion: speed belongs to the benchmarks.
      System.out.printf(
          "per connection: %.1f us with credentials only, %.1f us with groups, process, exe,"
              + " command line and parent on both sides%n",
          plain / 2_000 / 1e3, detailed / 10_000 / 1e3);
    }
  }

  /** Connects and accepts {@code count} times; returns the nanoseconds it took. */
  private static long run(UnixListener listener, Path path, int count, boolean details)
      throws IOException {
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      UnixConnection client = UnixConnection.connect(path);
      UnixConnection server = listener.accept();
      try {
        if (details) {
          for (UnixConnection side : new UnixConnection[] {server, client}) {
            PeerIdentity identity = side.peerIdentity();
            identity.groups();
            PeerProcess process = identity.process().orElseThrow();
            assertTrue(process.executable().isAbsolute());
            assertTrue(!process.commandLine().isEmpty());
            process.parent().orElseThrow();
          }
        }
      } finally {
        server.close();
        client.close();
      }
    }
    return System.nanoTime() - start;
  }

  private static Object safeTargets() {
    try {
      return PeerIdentityTest.fdTargets();
    } catch (IOException e) {
      return e;
    }
  }
}
