package dev.peercred;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Child JVMs and descriptor counts for tests that need real other processes. */
final class Children {
  private Children() {}

  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  /** Starts {@code main} in a new JVM with this test's class path; stderr goes to this one's. */
  static Process startJvm(Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(JAVA);
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xshare:auto");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /** Reads one line of the child's stdout, failing if it exits first. */
  static String readLine(Process process) throws IOException {
    var reader =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = reader.readLine();
    if (line == null) {
      throw new IOException("child exited before writing a line: " + process);
    }
    return line;
  }

  static void kill(Process process) throws InterruptedException {
    process.destroyForcibly(); // SIGKILL
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** How many descriptors this process has open. */
  static int openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return (int) fds.count();
    }
  }

  /**
   * What each open descriptor of this process points to, as {@code fd -> target}, after one
   * connection has been made and closed and a read and a write on it have had to wait, so that
   * descriptors opened once per process (the epoll instances of the pollers, which start at the
   * first wait that needs them) are part of the baseline.
   */
  static java.util.Map<Integer, String> baselineDescriptors() throws Exception {
    var name = UnixSocketAddress.ofAbstract("peercred-warm-up-" + ProcessHandle.current().pid());
    try (UnixListener listener = UnixListener.bind(name, ListenerOptions.defaults());
        UnixConnection client = UnixConnection.connect(name, java.time.Duration.ZERO);
        UnixConnection server = listener.accept()) {
      Thread reader = Thread.ofPlatform().start(() -> readQuietly(server));
      awaitParked(reader); // in the read poller
      client.writeFully(new byte[1], 0, 1);
      reader.join();
      Thread writer =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      while (true) {
                        client.writeFully(new byte[64 * 1024], 0, 64 * 1024);
                      }
                    } catch (IOException e) {
                      // closed below, once it waited in the write poller
                    }
                  });
      awaitParked(writer);
      client.close();
      writer.join();
    }
    return descriptors();
  }

  private static void readQuietly(UnixConnection connection) {
    try {
      connection.inputStream().read();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Waits up to 20 s until {@code thread} is parked without a timeout. */
  private static void awaitParked(Thread thread) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (thread.getState() != Thread.State.WAITING) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError(thread + " did not wait: " + thread.getState());
      }
      Thread.onSpinWait();
    }
  }

  /** What each open descriptor of this process points to, as {@code fd -> target}. */
  static java.util.Map<Integer, String> descriptors() throws IOException {
    java.util.Map<Integer, String> map = new java.util.TreeMap<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          map.put(
              Integer.parseInt(fd.getFileName().toString()), Files.readSymbolicLink(fd).toString());
        } catch (IOException e) {
          // closed meanwhile (the directory stream's own descriptor, for one)
        }
      }
    }
    return map;
  }

  /**
   * Waits up to 20 s until this process has no more descriptors open than {@code baseline} (from
   * {@link #descriptors()}); fails listing the extra ones.
   */
  static void awaitDescriptorsBackTo(java.util.Map<Integer, String> baseline) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      java.util.Map<Integer, String> now = descriptors();
      if (now.size() <= baseline.size()) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        now.entrySet().removeAll(baseline.entrySet());
        throw new AssertionError(
            "descriptors not back to baseline " + baseline.size() + " in 20 s; extra: " + now);
      }
      Thread.sleep(10);
    }
  }

  /** The descriptor number in {@code UnixConnection[fd=12, ...]}. */
  static int fdOf(Object socketOwner) {
    String s = socketOwner.toString();
    int i = s.indexOf("fd=") + 3;
    int j = i;
    while (j < s.length() && Character.isDigit(s.charAt(j))) {
      j++;
    }
    return Integer.parseInt(s.substring(i, j));
  }
}
