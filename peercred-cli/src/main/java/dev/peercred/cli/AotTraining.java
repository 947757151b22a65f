package dev.peercred.cli;

import dev.peercred.UnixConnection;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The training run for the JVM's ahead-of-time cache of the command-line tool ({@code
 * -XX:AOTCacheOutput}, JEP 483 and 514), run by the build: it does what users do most, so that the
 * classes, linkage and profiles those commands need are in the cache that the launcher then gives
 * every run ({@code -XX:AOTCache}).
 *
 * <p>It starts {@code peercred proxy} on a socket in a temporary directory with a policy that
 * refuses everyone (so the proxy answers the whoami probe itself), runs {@code whoami} and {@code
 * whoami --json} against it and asks for the help of every command that needs no gRPC, all in this
 * process with their output discarded; then exits, which writes the cache. A command that fails
 * fails the build.
 */
final class AotTraining {
  private AotTraining() {}

  public static void main(String[] args) throws Exception {
    PrintStream realErr = System.err;
    PrintStream discard = new PrintStream(OutputStream.nullOutputStream(), true);
    Path dir = Files.createTempDirectory("peercred-aot-training");
    int status = 1;
    try {
      System.setOut(discard);
      System.setErr(discard);
      status = train(dir, realErr);
    } finally {
      System.setErr(realErr);
      deleteTree(dir);
    }
    System.exit(status);
  }

  private static int train(Path dir, PrintStream realErr) throws Exception {
    Path socket = dir.resolve("proxy.sock");
    Path policy = Files.writeString(dir.resolve("policy"), "default deny\n");
    String[] proxy = {
      "proxy",
      "--listen",
      socket.toString(),
      "--to",
      dir.resolve("backend.sock").toString(),
      "--policy",
      policy.toString(),
      "--audit",
      dir.resolve("audit").toString()
    };
    Thread server =
        Thread.ofPlatform().daemon().name("aot-training-proxy").start(() -> Main.run(proxy));
    awaitListening(socket, server);
    List<String[]> runs =
        List.of(
            new String[] {"whoami", socket.toString()},
            new String[] {"whoami", "--json", socket.toString()},
            new String[] {"--help"},
            new String[] {"--version"},
            new String[] {"whoami", "--help"},
            new String[] {"proxy", "--help"},
            new String[] {"echo", "--help"},
            new String[] {"kv", "--help"});
    for (String[] run : runs) {
      int code = Main.run(run);
      if (code != 0) {
        realErr.println(
            "AOT training: 'peercred " + String.join(" ", run) + "' exited with " + code);
        return 1;
      }
    }
    return 0;
  }

  private static void awaitListening(Path socket, Thread server) throws InterruptedException {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline && server.isAlive()) {
      try (UnixConnection probe = UnixConnection.connect(socket)) {
        return;
      } catch (IOException e) {
        Thread.sleep(10); // the proxy is still starting
      }
    }
    throw new IllegalStateException("AOT training: the proxy did not start listening on " + socket);
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
