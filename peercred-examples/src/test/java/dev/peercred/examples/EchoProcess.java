package dev.peercred.examples;

import dev.peercred.UnixConnection;
import dev.peercred.testing.Await;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.CpuTime;
import dev.peercred.testing.Descriptors;
import dev.peercred.testing.JavaCommand;
import java.io.IOException;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** An {@link EchoServer} (or another example server) in a child JVM, for fault tests. */
final class EchoProcess implements AutoCloseable {
  final ChildProcess process;
  final Path socket;

  private EchoProcess(ChildProcess process, Path socket) {
    this.process = process;
    this.socket = socket;
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

  /**
   * Like {@link #start(Path, List, String...)} for another example server taking a socket path; it
   * is ready once a line sent to it gets an answer.
   */
  static EchoProcess start(Path dir, List<String> prefix, Class<?> main, String... jvmOptions)
      throws Exception {
    Path socket = dir.resolve("echo.sock");
    List<String> command =
        JavaCommand.main(main).options(jvmOptions).args(socket.toString()).toList(prefix);
    EchoProcess echo = new EchoProcess(ChildProcess.builder(command).mergeStderr().start(), socket);
    try {
      Await.until(
          "the server to answer on " + socket,
          () -> {
            if (!echo.process.isAlive()) {
              throw new IllegalStateException("the server exited");
            }
            try {
              return !echo.roundTrip("ping").isEmpty();
            } catch (NoSuchFileException | ConnectException notListeningYet) {
              return false;
            }
          },
          echo.process::describe);
      return echo;
    } catch (RuntimeException | Error | InterruptedException e) {
      echo.close();
      throw e;
    }
  }

  /** Sends one line on a new connection and returns the answer line, without its newline. */
  String roundTrip(String line) throws IOException {
    try (UnixConnection connection = UnixConnection.connect(socket)) {
      connection.setReadTimeout(Await.TIMEOUT);
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

  /** What the server wrote so far (its log goes to standard error). */
  String log() {
    return process.stdout();
  }

  /** The command, exit code and output, for assertion messages. */
  String describe() {
    return process.describe();
  }

  int openDescriptors() throws IOException {
    return Descriptors.count(process.pid());
  }

  /** CPU time the server has used so far. */
  Duration cpuTime() throws IOException {
    return CpuTime.ofProcess(process.pid());
  }

  @Override
  public void close() {
    process.close();
  }
}
