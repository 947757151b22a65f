package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.fail;

import dev.peercred.UnixConnection;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** Runs the peercred command and other programs as processes, as a user would. */
final class Cli {
  private Cli() {}

  static final String JAVA = ProcessHandle.current().info().command().orElse("java");

  /** The command line that starts {@code peercred} with this test's class path (as root). */
  static List<String> peercred(String... args) {
    List<String> command = new ArrayList<>();
    command.add(JAVA);
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.peercred.cli.Main");
    command.addAll(List.of(args));
    return command;
  }

  /**
   * The command line that starts {@code peercred} as another user. That user may not be able to
   * read this test's class path (a build under {@code /root}, say), so every entry, jar or class
   * directory, is copied to {@code dir} first (once per directory), readable by all.
   */
  static List<String> peercredAs(long uid, Path dir, String... args) throws IOException {
    List<String> entries = new ArrayList<>();
    String[] classPath = System.getProperty("java.class.path").split(java.io.File.pathSeparator);
    for (int i = 0; i < classPath.length; i++) {
      Path entry = Path.of(classPath[i]);
      if (!Files.exists(entry)) {
        continue;
      }
      Path copy = dir.resolve("classpath-" + i + "-" + entry.getFileName());
      if (!Files.exists(copy)) {
        copyReadable(entry, copy);
      }
      entries.add(copy.toString());
    }
    List<String> command = new ArrayList<>(asUser(uid, uid));
    command.addAll(
        List.of(
            JAVA,
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            String.join(java.io.File.pathSeparator, entries),
            "dev.peercred.cli.Main"));
    command.addAll(List.of(args));
    return command;
  }

  private static void copyReadable(Path from, Path to) throws IOException {
    try (var paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          Files.copy(source, target);
          Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
  }

  /**
   * Waits until something accepts connections at {@code socket} (a socket file exists as soon as a
   * server binds, before it listens), connecting once more each time until {@code timeout}.
   */
  static void awaitListening(Path socket, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    IOException last = null;
    while (System.nanoTime() < deadline) {
      try (UnixConnection probe = UnixConnection.connect(socket)) {
        return;
      } catch (IOException e) {
        last = e;
      }
      Thread.sleep(20);
    }
    fail("nothing listens at " + socket + " after " + timeout + ": " + last);
  }

  /** Skips the calling test, saying why, unless {@code program} is installed. */
  static void assumeInstalled(String program) {
    boolean found = false;
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, program))) {
        found = true;
        break;
      }
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(
        found, program + " is not installed: skipping this end-to-end test (install it to run it)");
  }

  /** {@code setpriv} prefix that runs a command as {@code uid}/{@code gid} with no other groups. */
  static List<String> asUser(long uid, long gid) {
    return List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups");
  }

  /** The outcome of a finished process. */
  record Result(List<String> command, int exitCode, byte[] stdout, String stderr) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    /** Fails, showing the whole outcome, unless the process exited with {@code expected}. */
    Result expectExit(int expected) {
      if (exitCode != expected) {
        fail("expected exit code " + expected + ", got " + this);
      }
      return this;
    }

    /** Standard output parsed as JSON; fails, showing the whole outcome, if it is not JSON. */
    Object json() {
      try {
        return Json.parse(out().strip());
      } catch (IllegalArgumentException e) {
        fail("standard output is not JSON (" + e.getMessage() + "): " + this);
        return null;
      }
    }

    /** The command, its exit code, standard output and standard error, for failure messages. */
    @Override
    public String toString() {
      return "exit code "
          + exitCode
          + " of "
          + String.join(" ", command)
          + "\n--- stdout ---\n"
          + out()
          + "\n--- stderr ---\n"
          + stderr
          + "\n---";
    }
  }

  /** Runs a command to its end, with at most {@code timeout}. */
  static Result run(List<String> command, Duration timeout) throws Exception {
    Process process = new ProcessBuilder(command).start();
    process.getOutputStream().close();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread readOut = Thread.ofVirtual().start(() -> copy(process.getInputStream(), out));
    Thread readErr = Thread.ofVirtual().start(() -> copy(process.getErrorStream(), err));
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly().waitFor();
      readOut.join();
      readErr.join();
      fail(
          "timed out after "
              + timeout
              + ": "
              + new Result(command, -1, out.toByteArray(), err.toString(StandardCharsets.UTF_8)));
    }
    readOut.join();
    readErr.join();
    return new Result(
        command, process.exitValue(), out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  private static void copy(InputStream in, ByteArrayOutputStream out) {
    try (in) {
      in.transferTo(out);
    } catch (IOException e) {
      // The process is gone; what was read is all there is.
    }
  }

  /** A long-running process whose standard error lines are collected as they come. */
  static final class Running implements AutoCloseable {
    final Process process;
    final List<String> errLines = new CopyOnWriteArrayList<>();
    private final Thread errReader;

    Running(List<String> command, Path stdoutFile) throws IOException {
      ProcessBuilder builder = new ProcessBuilder(command);
      if (stdoutFile != null) {
        builder.redirectOutput(stdoutFile.toFile());
      }
      process = builder.start();
      errReader =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (BufferedReader reader =
                        new BufferedReader(
                            new InputStreamReader(
                                process.getErrorStream(), StandardCharsets.UTF_8))) {
                      String line;
                      while ((line = reader.readLine()) != null) {
                        errLines.add(line);
                      }
                    } catch (IOException e) {
                      // process gone
                    }
                  });
    }

    /** Waits until a line of standard error matches, and returns it. */
    String awaitErr(Predicate<String> match, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        boolean exited = !process.isAlive();
        if (exited) {
          errReader.join(
              Duration.ofSeconds(10)); // it ends at the end of the exited process's stream
        }
        for (String line : errLines) {
          if (match.test(line)) {
            return line;
          }
        }
        if (exited) {
          fail("exited with " + process.exitValue() + " before the expected line: " + errLines);
        }
        Thread.sleep(20);
      }
      fail("no matching line on standard error within " + timeout + ": " + errLines);
      return null;
    }

    long pid() {
      return process.pid();
    }

    void signal(String name) throws Exception {
      Result r =
          run(List.of("kill", "-" + name, Long.toString(process.pid())), Duration.ofSeconds(5));
      if (r.exitCode() != 0) {
        fail("kill -" + name + " failed: " + r.stderr());
      }
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
