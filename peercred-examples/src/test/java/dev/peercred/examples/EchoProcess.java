package dev.peercred.examples;

import dev.peercred.UnixConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** An {@link EchoServer} in a child JVM, with its stderr in a file, for fault tests. */
final class EchoProcess implements AutoCloseable {
  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  final Process process;
  final Path socket;
  final Path log;

  private EchoProcess(Process process, Path socket, Path log) {
    this.process = process;
    this.socket = socket;
    this.log = log;
  }

  /**
   * Starts {@code prefix... java jvmOptions... EchoServer socket} and waits until it answers.
   *
   * @param prefix a command that runs the JVM (for example {@code prlimit --nofile=N:N --}), or
   *     none
   */
  static EchoProcess start(Path dir, List<String> prefix, String... jvmOptions) throws Exception {
    return start(dir, prefix, EchoServer.class, jvmOptions);
  }

  /** Like {@link #start(Path, List, String...)} for another example server taking a socket path. */
  static EchoProcess start(Path dir, List<String> prefix, Class<?> main, String... jvmOptions)
      throws Exception {
    Path socket = dir.resolve("echo.sock");
    Path log = dir.resolve("echo.log");
    List<String> command = new ArrayList<>(prefix);
    command.add(JAVA);
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(List.of(jvmOptions));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.add(socket.toString());
    Process process =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    EchoProcess echo = new EchoProcess(process, socket, log);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("echo server exited: " + echo.log());
      }
      if (Files.exists(socket)) {
        try {
          if (!echo.roundTrip("ping").isEmpty()) {
            return echo;
          }
        } catch (IOException e) {
          // not listening yet
        }
      }
      if (System.nanoTime() - deadline > 0) {
        echo.close();
        throw new IllegalStateException("echo server did not start: " + echo.log());
      }
      Thread.sleep(20);
    }
  }

  /** Sends one line on a new connection and returns the answer line, without its newline. */
  String roundTrip(String line) throws IOException {
    try (UnixConnection connection = UnixConnection.connect(socket)) {
      connection.setReadTimeout(Duration.ofSeconds(20));
      return roundTrip(connection, line);
    }
  }

  static String roundTrip(UnixConnection connection, String line) throws IOException {
    byte[] bytes = (line + "\n").getBytes(StandardCharsets.UTF_8);
    connection.writeFully(bytes, 0, bytes.length);
    StringBuilder answer = new StringBuilder();
    var in = connection.inputStream();
    int c;
    while ((c = in.read()) >= 0 && c != '\n') {
      answer.append((char) c);
    }
    return answer.toString();
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  int openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
      return (int) fds.count();
    }
  }

  /** User plus system CPU time the process has used, in clock ticks ({@code /proc/PID/stat}). */
  long cpuTicks() throws IOException {
    String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (14, 15)
  }

  /** Clock ticks per second ({@code getconf CLK_TCK}); 100 if it cannot be asked. */
  static long ticksPerSecond() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      return p.waitFor() == 0 ? Long.parseLong(out) : 100;
    } catch (IOException | RuntimeException | InterruptedException e) {
      return 100;
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
