package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.fail;

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
   * The command line that starts {@code peercred} as another user: the jars of the class path
   * (under /root, which other users cannot enter) are copied to {@code dir} first.
   */
  static List<String> peercredAs(long uid, Path dir, String... args) throws IOException {
    List<String> entries = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path path = Path.of(entry);
      if (entry.endsWith(".jar") && !entry.startsWith("/work/")) {
        Path copy = dir.resolve(path.getFileName());
        if (!Files.exists(copy)) {
          Files.copy(path, copy);
          Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
        }
        entries.add(copy.toString());
      } else {
        entries.add(entry);
      }
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
  record Result(int exitCode, byte[] stdout, String stderr) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
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
      process.destroyForcibly();
      fail("timed out after " + timeout + ": " + command);
    }
    readOut.join();
    readErr.join();
    return new Result(process.exitValue(), out.toByteArray(), err.toString(StandardCharsets.UTF_8));
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

    Running(List<String> command, Path stdoutFile) throws IOException {
      ProcessBuilder builder = new ProcessBuilder(command);
      if (stdoutFile != null) {
        builder.redirectOutput(stdoutFile.toFile());
      }
      process = builder.start();
      Thread.ofVirtual()
          .start(
              () -> {
                try (BufferedReader reader =
                    new BufferedReader(
                        new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
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
          Thread.sleep(100); // let the reader take the last lines
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
