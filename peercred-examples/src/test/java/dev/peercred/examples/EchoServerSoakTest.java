package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.IOException;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Soak: many connections to one echo server, mixing allowed ones (this process's user), refused
 * ones (a child process running as uid 65534 through {@code setpriv}) and aborted ones (closed at
 * once, mid-line, or without reading the answer). Afterwards the server's descriptor count and heap
 * are back to their baseline and it still serves.
 *
 * <p>The number of connections is {@code peercred.soak.connections} (default 100,000).
 */
@Timeout(300)
class EchoServerSoakTest {
  private static final int CONNECTIONS = Integer.getInteger("peercred.soak.connections", 100_000);
  private static final int ALLOWED_THREADS = 4;

  /** Held so the level set below sticks: 20,000 "UID mismatch" lines would only bury the output. */
  private static final java.util.logging.Logger ECHO_LOG =
      java.util.logging.Logger.getLogger("dev.peercred.echo");

  @TempDir Path dir;

  @Test
  void manyAllowedRefusedAndAbortedConnectionsLeaveNoDescriptorsOrHeapBehind() throws Exception {
    Assumptions.assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0,
        "refused clients run as uid 65534 through setpriv, which needs root");
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) is not installed");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    java.util.logging.Level level = ECHO_LOG.getLevel();
    ECHO_LOG.setLevel(java.util.logging.Level.WARNING);
    Path socket = dir.resolve("echo.sock");
    UnixListener listener = UnixListener.bind(socket);
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
    EchoServer server = new EchoServer(listener, PeerCredentials.ofCurrentProcess().uid());
    Thread acceptor = Thread.ofPlatform().name("echo-accept").start(server::run);
    try {
      List<String> classPath = copyClassPathForOtherUsers();
      assertEquals("> warm", roundTrip(socket, "warm"));
      runRefused(socket, classPath, 10).get(60, TimeUnit.SECONDS); // warm up both paths
      int baselineFds = openDescriptors();
      long baselineHeap = usedHeapAfterGc();

      int refused = CONNECTIONS / 5;
      int aborted = CONNECTIONS * 3 / 10;
      int allowed = CONNECTIONS - refused - aborted;
      long start = System.nanoTime();
      CompletableFuture<Integer> refusals = runRefused(socket, classPath, refused);
      AtomicInteger echoed = new AtomicInteger();
      AtomicInteger abortedDone = new AtomicInteger();
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < ALLOWED_THREADS; t++) {
        int thread = t;
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        for (int i = thread; i < allowed; i += ALLOWED_THREADS) {
                          if (roundTrip(socket, "n" + i).equals("> n" + i)) {
                            echoed.incrementAndGet();
                          }
                        }
                        for (int i = thread; i < aborted; i += ALLOWED_THREADS) {
                          abort(socket, i % 3);
                          abortedDone.incrementAndGet();
                        }
                      } catch (IOException e) {
                        throw new AssertionError(e);
                      }
                    }));
      }
      for (Thread t : threads) {
        t.join();
      }
      int refusedOk = refusals.get(240, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          "soak: %d connections (%d allowed, %d refused, %d aborted) in %.1f s, %.0f/s%n",
          CONNECTIONS, allowed, refused, aborted, seconds, CONNECTIONS / seconds);
      assertEquals(allowed, echoed.get());
      assertEquals(refused, refusedOk);
      assertEquals(aborted, abortedDone.get());
      assertEquals(0, listener.credentialFailures());

      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (openDescriptors() > baselineFds && System.nanoTime() - deadline < 0) {
        Thread.sleep(20);
      }
      assertTrue(
          openDescriptors() <= baselineFds,
          "descriptors: " + openDescriptors() + ", baseline " + baselineFds);
      long heap = usedHeapAfterGc();
      System.out.printf("soak: heap %d KiB after, %d KiB before%n", heap >> 10, baselineHeap >> 10);
      assertTrue(
          heap < baselineHeap + (32 << 20), "heap grew from " + baselineHeap + " to " + heap);
      assertEquals("> after", roundTrip(socket, "after"));
    } finally {
      server.close();
      acceptor.join(10_000);
      ECHO_LOG.setLevel(level);
    }
  }

  private static String roundTrip(Path socket, String line) throws IOException {
    try (UnixConnection connection = UnixConnection.connect(socket)) {
      connection.setReadTimeout(Duration.ofSeconds(30));
      return EchoProcess.roundTrip(connection, line);
    }
  }

  /** 0: close at once; 1: close mid-line; 2: send a line and close without reading the answer. */
  private static void abort(Path socket, int how) throws IOException {
    try (UnixConnection connection = UnixConnection.connect(socket)) {
      byte[] bytes = (how == 1 ? "half a li" : "unread\n").getBytes(StandardCharsets.US_ASCII);
      if (how > 0) {
        connection.writeFully(bytes, 0, bytes.length);
      }
    } catch (SocketException e) {
      // the server may already have answered and closed: fine for an aborting client
    }
  }

  private CompletableFuture<Integer> runRefused(Path socket, List<String> classPath, int count)
      throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                "/usr/bin/setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                EchoProcess.JAVA,
                "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                String.join(":", classPath),
                SoakRefusedClient.class.getName(),
                socket.toString(),
                Integer.toString(count)));
    Process process =
        new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .directory(dir.toFile())
            .start();
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            String out = new String(process.getInputStream().readAllBytes()).trim();
            if (process.waitFor() != 0 || out.isEmpty()) {
              throw new AssertionError("refused client failed, exit " + process.exitValue());
            }
            return Integer.parseInt(out);
          } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
          }
        });
  }

  /**
   * Copies this build's own class directories and jars (those under a {@code target} directory)
   * into the world-readable temporary directory, so that a child running as another user can load
   * them wherever the project is checked out.
   */
  private List<String> copyClassPathForOtherUsers() throws IOException {
    List<String> entries = new ArrayList<>();
    Path root = dir.resolve("cp");
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(":")) {
      Path source = Path.of(entry);
      if (!entry.contains("/target/") || !Files.exists(source)) {
        continue;
      }
      Path target = root.resolve(Integer.toString(n++)).resolve(source.getFileName());
      try (Stream<Path> files = Files.walk(source)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Path copy = target.resolve(source.relativize(file).toString());
          Files.createDirectories(copy.getParent());
          if (Files.isDirectory(file)) {
            Files.createDirectories(copy);
          } else {
            Files.copy(file, copy);
          }
        }
      }
      entries.add(target.toString());
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Files.setPosixFilePermissions(
            file,
            PosixFilePermissions.fromString(Files.isDirectory(file) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    return entries;
  }

  private static int openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return (int) fds.count();
    }
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(50);
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
