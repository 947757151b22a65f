package dev.peercred.cli;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Tools;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Runs the peercred command and other programs as processes, as a user would: the command lines and
 * process handling of the command's tests, on top of {@code dev.peercred.testing}.
 */
final class Cli {
  /** This JVM's {@code java}, for child JVMs a test starts itself. */
  static final String JAVA = JavaCommand.java().toString();

  private Cli() {}

  /** The command line that starts {@code peercred} with this test's class path (as root). */
  static List<String> peercred(String... args) {
    return JavaCommand.main(Main.class).args(args).toList();
  }

  /**
   * The command line that starts {@code peercred} as another user, with a class path that user can
   * read (entries it could not, such as jars under a private home directory, are copied into {@code
   * dir}/cp first).
   */
  static List<String> peercredAs(long uid, Path dir, String... args) throws IOException {
    return JavaCommand.main(Main.class)
        .classPath(Users.readableClassPath(dir.resolve("cp")))
        .args(args)
        .toList(Users.as(uid, uid));
  }

  /**
   * Waits until something accepts connections at {@code socket} (a socket file exists as soon as a
   * server binds, before it listens).
   */
  static void awaitListening(Path socket, Duration timeout) throws InterruptedException {
    dev.peercred.testing.Await.until(
        timeout,
        "a server listening at " + socket,
        () -> {
          try (dev.peercred.UnixConnection probe = dev.peercred.UnixConnection.connect(socket)) {
            return true;
          } catch (IOException e) {
            return false;
          }
        });
  }

  /** Skips the calling test, saying why, unless {@code program} is installed. */
  static void assumeInstalled(String program) {
    Tools.require(program);
  }

  /**
   * {@code setpriv} prefix that runs a command as {@code uid}/{@code gid} with no other groups;
   * skips the calling test unless this is root with setpriv.
   */
  static List<String> asUser(long uid, long gid) {
    return Users.as(uid, gid);
  }

  /**
   * Sends one request with {@code curl} to the HTTP server on {@code socket} as {@code uid}, with
   * the curl options {@code extra}; returns the status code, a space and the body.
   */
  static String curlStatusAndBody(
      Path socket, long uid, String method, String path, String... extra) throws Exception {
    assumeInstalled("curl");
    List<String> command = new ArrayList<>(asUser(uid, uid));
    command.addAll(
        List.of(
            "curl", "-sS", "-X", method, "--unix-socket", socket.toString(), "-w", "%{http_code}"));
    command.addAll(List.of(extra));
    command.add("http://docker" + path);
    Result result = run(command, Duration.ofSeconds(60));
    org.junit.jupiter.api.Assertions.assertEquals(0, result.exitCode(), result.stderr());
    String out = result.out();
    return out.substring(out.length() - 3) + " " + out.substring(0, out.length() - 3);
  }

  /** The outcome of a finished process; {@link #toString()} shows everything about it. */
  record Result(int exitCode, byte[] stdout, String stderr, String description) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }

    /** Fails, showing the whole outcome, unless the process exited with {@code expected}. */
    Result expectExit(int expected) {
      if (exitCode != expected) {
        org.junit.jupiter.api.Assertions.fail("expected exit code " + expected + ", got " + this);
      }
      return this;
    }

    /** Standard output parsed as JSON; fails, showing the whole outcome, if it is not JSON. */
    Object json() {
      try {
        return Json.parse(out().strip());
      } catch (IllegalArgumentException e) {
        org.junit.jupiter.api.Assertions.fail(
            "standard output is not JSON (" + e.getMessage() + "): " + this);
        return null;
      }
    }

    @Override
    public String toString() {
      return description;
    }
  }

  /** Runs a command to its end, with at most {@code timeout}; standard input is closed at once. */
  static Result run(List<String> command, Duration timeout) throws Exception {
    ChildProcess.Result r = ChildProcess.run(command, timeout);
    return new Result(r.exitCode(), r.stdoutBytes(), r.stderr(), r.description());
  }

  /**
   * A long-running process: standard error (and standard output, unless sent to a file) captured as
   * it comes; closing it kills it.
   */
  static final class Running implements AutoCloseable {
    final ChildProcess child;
    final Process process;

    /**
     * Starts {@code command}.
     *
     * @param stdoutFile where standard output goes, or null to capture it
     */
    Running(List<String> command, Path stdoutFile) throws IOException {
      ChildProcess.Builder builder = ChildProcess.builder(command).defaultSignals();
      if (stdoutFile != null) {
        builder.stdoutTo(stdoutFile);
      }
      child = builder.start();
      process = child.process();
    }

    /** Waits until a line of standard error matches, and returns it. */
    String awaitErr(Predicate<String> match, Duration timeout) throws InterruptedException {
      return child.awaitStderr(match, timeout);
    }

    /** Waits until a line of standard output contains {@code text}, and returns it. */
    String awaitOut(String text) throws InterruptedException {
      return child.awaitStdout(text);
    }

    /** The command, whether it ended, and what it wrote: for assertion messages. */
    String describe() {
      return child.describe();
    }

    long pid() {
      return child.pid();
    }

    void signal(String name) throws Exception {
      child.signal(name);
    }

    @Override
    public void close() {
      child.close();
    }
  }
}
