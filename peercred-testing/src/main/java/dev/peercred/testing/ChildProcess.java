package dev.peercred.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process a test starts: its standard output and error are captured to memory as they come, a
 * test waits for what it needs (a line, a file, the exit) with a bound, and every failure shows the
 * command, the exit code and both outputs ({@link #describe()}). Closing it kills the process and
 * every process it started (SIGKILL), so that no test leaves a process behind; one still running
 * when the test JVM ends is killed then.
 *
 * <pre>{@code
 * try (ChildProcess server = ChildProcess.start(JavaCommand.main(Probe.class).args(path).toList())) {
 *   server.awaitStdout("READY");
 *   ...
 *   server.assertExit(0);
 * }
 * }</pre>
 */
public final class ChildProcess implements AutoCloseable {
  /**
   * The bound of a wait on a process when none is given (a line, a file, the exit): twice {@link
   * Await#TIMEOUT}, since it often covers a whole child JVM's start and work on a loaded machine.
   */
  public static final Duration TIMEOUT = Await.TIMEOUT.multipliedBy(2);

  /** Output shown of each stream in a failure message: the end of it. */
  private static final int SHOWN_BYTES = 16 * 1024;

  private static final Set<ChildProcess> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> RUNNING.forEach(ChildProcess::killTree), "peercred-testing-child-reaper"));
  }

  /**
   * {@code env --default-signal}, where the system's env has it (coreutils 8.31 and later), else
   * nothing: for {@link Builder#defaultSignals()}. Probed once, by the first child that asks.
   */
  private static final class DefaultSignals {
    static final List<String> PREFIX = probe();

    private static List<String> probe() {
      List<String> prefix = List.of("/usr/bin/env", "--default-signal");
      List<String> check = new java.util.ArrayList<>(prefix);
      check.add("true");
      try {
        Process probe =
            new ProcessBuilder(check)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        return probe.waitFor() == 0 ? prefix : List.of();
      } catch (IOException e) {
        return List.of();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return List.of();
      }
    }
  }

  private final List<String> command;
  private final Process process;
  private final Capture stdout;
  private final Capture stderr;
  private final Path stdoutFile;
  private final Thread stdoutReader;
  private final Thread stderrReader;
  private volatile boolean killed;

  private ChildProcess(Builder builder) throws IOException {
    this.command = List.copyOf(builder.command);
    List<String> launched =
        new java.util.ArrayList<>(builder.defaultSignals ? DefaultSignals.PREFIX : List.of());
    launched.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(launched);
    if (builder.directory != null) {
      pb.directory(builder.directory.toFile());
    }
    builder.environment.forEach(
        (key, value) -> {
          if (value == null) {
            pb.environment().remove(key);
          } else {
            pb.environment().put(key, value);
          }
        });
    pb.redirectErrorStream(builder.mergeStderr);
    this.stdoutFile = builder.stdoutFile;
    if (stdoutFile != null) {
      pb.redirectOutput(stdoutFile.toFile());
    }
    try {
      this.process = pb.start();
    } catch (IOException e) {
      throw new IOException("cannot start " + command + ": " + e.getMessage(), e);
    }
    RUNNING.add(this);
    this.stdout = new Capture();
    this.stderr = new Capture();
    this.stdoutReader = reader(process.getInputStream(), stdout, "stdout");
    this.stderrReader = reader(process.getErrorStream(), stderr, "stderr");
  }

  private Thread reader(InputStream in, Capture into, String name) {
    return Thread.ofPlatform()
        .daemon()
        .name("child-" + process.pid() + "-" + name)
        .start(
            () -> {
              byte[] buffer = new byte[64 * 1024];
              try (in) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                  into.append(buffer, n);
                }
              } catch (IOException e) {
                // the pipe is gone with the process: what was read is all there is
              } finally {
                into.end();
              }
            });
  }

  /** Starts {@code command} with its output captured. */
  public static ChildProcess start(List<String> command) throws IOException {
    return builder(command).start();
  }

  /** Starts {@code command} with its output captured. */
  public static ChildProcess start(String... command) throws IOException {
    return start(List.of(command));
  }

  /** A process to configure before starting it. */
  public static Builder builder(List<String> command) {
    return new Builder(command);
  }

  /**
   * Runs {@code command} to its end (standard input closed at once), at most {@link #TIMEOUT}, and
   * returns the outcome; the process is killed if it does not end in time.
   */
  public static Result run(List<String> command) throws IOException, InterruptedException {
    return run(command, TIMEOUT);
  }

  /** Like {@link #run(List)}, with at most {@code timeout}. */
  public static Result run(List<String> command, Duration timeout)
      throws IOException, InterruptedException {
    try (ChildProcess child = start(command)) {
      child.closeStdin();
      return child.finish(timeout);
    }
  }

  /** What to start: directory, environment, where the output goes. */
  public static final class Builder {
    private final List<String> command;
    private Path directory;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private boolean mergeStderr;
    private boolean defaultSignals;
    private Path stdoutFile;

    private Builder(List<String> command) {
      if (command.isEmpty()) {
        throw new IllegalArgumentException("empty command");
      }
      this.command = List.copyOf(command);
    }

    /** Runs the process in {@code directory} (the test JVM's own by default). */
    public Builder directory(Path directory) {
      this.directory = directory;
      return this;
    }

    /** Sets a variable in the process's environment, or removes it if {@code value} is null. */
    public Builder environment(String name, String value) {
      environment.put(name, value);
      return this;
    }

    /** Sends standard error into standard output, in the order written (for logs). */
    public Builder mergeStderr() {
      this.mergeStderr = true;
      return this;
    }

    /**
     * Starts the child with every signal at its default action, whatever this JVM inherited, for a
     * child the test will signal. A test run from {@code nohup} or a background job ignores {@code
     * SIGHUP} or {@code SIGINT}, its children would too, and a JVM never handles a shutdown signal
     * it started out ignoring, so the test would wait for nothing. The child runs through {@code
     * env --default-signal}, which then executes the command in the same process: until it has, the
     * process's command line is env's, so this is not for children whose identity a test reads at
     * once.
     */
    public Builder defaultSignals() {
      this.defaultSignals = true;
      return this;
    }

    /** Writes standard output to {@code file} instead of capturing it. */
    public Builder stdoutTo(Path file) {
      this.stdoutFile = file;
      return this;
    }

    public ChildProcess start() throws IOException {
      return new ChildProcess(this);
    }
  }

  /** The outcome of a process that ended. */
  public record Result(String description, int exitCode, byte[] stdoutBytes, String stderr) {
    /** Standard output as UTF-8 text. */
    public String stdout() {
      return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    /** The lines of standard output. */
    public List<String> stdoutLines() {
      return stdout().lines().toList();
    }

    /** The command, exit code and both outputs, for assertion messages. */
    @Override
    public String toString() {
      return description;
    }
  }

  public long pid() {
    return process.pid();
  }

  /** The underlying process, for what this class does not offer. */
  public Process process() {
    return process;
  }

  public List<String> command() {
    return command;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The process's standard input. */
  public OutputStream stdin() {
    return process.getOutputStream();
  }

  /** Closes the process's standard input: it reads end of stream. */
  public void closeStdin() throws IOException {
    process.getOutputStream().close();
  }

  /** Standard output so far, as UTF-8 text. */
  public String stdout() {
    return stdout.text();
  }

  /** Standard output so far, as bytes. */
  public byte[] stdoutBytes() {
    return stdout.bytes();
  }

  /** Standard error so far (empty when {@linkplain Builder#mergeStderr merged}). */
  public String stderr() {
    return stderr.text();
  }

  /** The lines of standard output so far. */
  public List<String> stdoutLines() {
    return stdout().lines().toList();
  }

  /** The lines of standard error so far. */
  public List<String> stderrLines() {
    return stderr().lines().toList();
  }

  /**
   * Waits for a line of standard output containing {@code text}, at most {@link #TIMEOUT}, and
   * returns it.
   */
  public String awaitStdout(String text) throws InterruptedException {
    return awaitStdout(line -> line.contains(text), "a line containing '" + text + "'");
  }

  /** Waits for a line of standard output matching {@code match}, and returns it. */
  public String awaitStdout(Predicate<String> match) throws InterruptedException {
    return awaitStdout(match, "a matching line");
  }

  /**
   * Waits at most {@code timeout} for a line of standard output containing {@code text}: for a line
   * that comes only after much work.
   */
  public String awaitStdout(String text, Duration timeout) throws InterruptedException {
    return awaitStdout(line -> line.contains(text), "a line containing '" + text + "'", timeout);
  }

  private String awaitStdout(Predicate<String> match, String what) throws InterruptedException {
    return awaitStdout(match, what, TIMEOUT);
  }

  private String awaitStdout(Predicate<String> match, String what, Duration timeout)
      throws InterruptedException {
    if (stdoutFile != null) {
      throw new IllegalStateException("standard output goes to " + stdoutFile);
    }
    return awaitLine(stdout, "standard output", match, what, timeout);
  }

  /** Waits for a line of standard error containing {@code text}, and returns it. */
  public String awaitStderr(String text) throws InterruptedException {
    return awaitStderr(line -> line.contains(text), "a line containing '" + text + "'");
  }

  /** Waits for a line of standard error matching {@code match}, and returns it. */
  public String awaitStderr(Predicate<String> match) throws InterruptedException {
    return awaitStderr(match, "a matching line");
  }

  /** Waits at most {@code timeout} for a line of standard error matching {@code match}. */
  public String awaitStderr(Predicate<String> match, Duration timeout) throws InterruptedException {
    return awaitLine(stderr, "standard error", match, "a matching line", timeout);
  }

  private String awaitStderr(Predicate<String> match, String what) throws InterruptedException {
    return awaitLine(stderr, "standard error", match, what, TIMEOUT);
  }

  private String awaitLine(
      Capture capture, String stream, Predicate<String> match, String what, Duration timeout)
      throws InterruptedException {
    Optional<String> line = capture.awaitLine(match, System.nanoTime() + timeout.toNanos());
    if (line.isPresent()) {
      return line.get();
    }
    if (capture.ended()) {
      process.waitFor(5, TimeUnit.SECONDS); // to show the exit code
      throw new AssertionError(stream + " ended without " + what + "\n" + describe());
    }
    throw new AssertionError(
        "timed out after "
            + timeout.toSeconds()
            + " s waiting on "
            + stream
            + " for "
            + what
            + "\n"
            + describe());
  }

  /**
   * Waits until {@code path} exists, at most {@link #TIMEOUT}; fails at once if the process exits
   * first.
   */
  public void awaitFile(Path path) throws InterruptedException {
    Await.until(
        TIMEOUT,
        path + " to exist",
        () -> {
          if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return true;
          }
          if (!process.isAlive()) {
            throw new IllegalStateException("the process exited before " + path + " existed");
          }
          return false;
        },
        this::describe);
  }

  /** Waits for the process to exit, at most {@link #TIMEOUT}; returns its exit code. */
  public int awaitExit() throws InterruptedException {
    return awaitExit(TIMEOUT);
  }

  /**
   * Waits for the process to exit, at most {@code timeout}, and for the rest of its output; returns
   * its exit code.
   *
   * @throws AssertionError if it is still running then (it is left running: close kills it)
   */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      throw new AssertionError("still running after " + timeout.toSeconds() + " s\n" + describe());
    }
    drain();
    return process.exitValue();
  }

  /** Waits for the exit ({@link #awaitExit()}) and returns the outcome. */
  public Result finish() throws InterruptedException {
    return finish(TIMEOUT);
  }

  /** Waits at most {@code timeout} for the exit and returns the outcome. */
  public Result finish(Duration timeout) throws InterruptedException {
    int exit = awaitExit(timeout);
    return new Result(describe(), exit, stdout.bytes(), stderr.text());
  }

  /** Waits for the exit and fails, showing everything, unless the exit code is {@code expected}. */
  public Result assertExit(int expected) throws InterruptedException {
    Result result = finish();
    if (result.exitCode() != expected) {
      throw new AssertionError(
          "expected exit code " + expected + " but was " + result.exitCode() + "\n" + result);
    }
    return result;
  }

  /** Sends the signal {@code name} ({@code HUP}, {@code TERM}, ...) with {@code kill(1)}. */
  public void signal(String name) throws IOException, InterruptedException {
    Result kill = run(List.of("kill", "-s", name, Long.toString(process.pid())));
    if (kill.exitCode() != 0) {
      throw new AssertionError("kill -s " + name + " failed\n" + kill);
    }
  }

  /** The command, whether and how it ended, and the end of both outputs. */
  public String describe() {
    StringBuilder text = new StringBuilder();
    text.append("command: ").append(String.join(" ", abbreviated(command))).append('\n');
    text.append("pid ").append(process.pid()).append(": ");
    if (process.isAlive()) {
      text.append("still running");
    } else {
      text.append("exit code ").append(process.exitValue());
      if (killed) {
        text.append(" (killed by the test)");
      }
    }
    text.append('\n');
    if (stdoutFile != null) {
      text.append("--- stdout: written to ").append(stdoutFile).append(" ---\n");
    } else {
      stdout.describeInto(text, "stdout");
    }
    stderr.describeInto(text, "stderr");
    return text.toString();
  }

  @Override
  public String toString() {
    return "ChildProcess[pid " + process.pid() + ", " + command.get(0) + "]";
  }

  /**
   * Kills the process and all its descendants (SIGKILL), waits for them, and collects what they
   * wrote. Idempotent.
   */
  @Override
  public void close() {
    killTree();
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // the pipe is broken with the process gone: nothing to flush
    }
    try {
      process.waitFor(30, TimeUnit.SECONDS);
      drain();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    RUNNING.remove(this);
  }

  private void killTree() {
    // Snapshot the tree first: once the parent is gone its children are no longer its descendants.
    List<ProcessHandle> tree = new ArrayList<>();
    process.descendants().forEach(tree::add);
    if (process.isAlive()) {
      killed = true;
      process.destroyForcibly();
    }
    tree.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle descendant : tree) {
      try {
        descendant.onExit().get(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        // gone already, or not ours to wait for
      }
    }
  }

  /** Waits (bounded) until both readers have seen end of stream after the exit. */
  private void drain() throws InterruptedException {
    stdoutReader.join(TimeUnit.SECONDS.toMillis(10)); // a descendant may still hold the pipe
    stderrReader.join(TimeUnit.SECONDS.toMillis(10));
  }

  /** A long class path argument is shown by its number of entries. */
  private static List<String> abbreviated(List<String> command) {
    List<String> shown = new ArrayList<>(command.size());
    for (int i = 0; i < command.size(); i++) {
      String arg = command.get(i);
      if (i > 0
          && (command.get(i - 1).equals("-cp") || command.get(i - 1).equals("--module-path"))
          && arg.length() > 200) {
        shown.add("<" + arg.split(File.pathSeparator).length + " entries>");
      } else if (arg.contains("\n")) {
        shown.add("'" + arg.lines().findFirst().orElse("") + "...'");
      } else {
        shown.add(arg);
      }
    }
    return shown;
  }

  /** One output stream, kept in memory as it arrives. */
  private static final class Capture {
    private byte[] bytes = new byte[8192];
    private int size;
    private boolean ended;

    synchronized void append(byte[] data, int length) {
      if (size + length > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + length));
      }
      System.arraycopy(data, 0, bytes, size, length);
      size += length;
      notifyAll();
    }

    synchronized void end() {
      ended = true;
      notifyAll();
    }

    synchronized boolean ended() {
      return ended;
    }

    synchronized byte[] bytes() {
      return Arrays.copyOf(bytes, size);
    }

    synchronized String text() {
      return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }

    /** The first complete line (or last line, once ended) matching, before the deadline. */
    synchronized Optional<String> awaitLine(Predicate<String> match, long deadline)
        throws InterruptedException {
      int from = 0;
      while (true) {
        for (int i = from; i < size; i++) {
          if (bytes[i] == '\n') {
            String line = line(from, i);
            from = i + 1;
            if (match.test(line)) {
              return Optional.of(line);
            }
          }
        }
        if (ended) {
          return from < size && match.test(line(from, size))
              ? Optional.of(line(from, size))
              : Optional.empty();
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.empty();
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }

    private String line(int from, int end) {
      int stop = end > from && bytes[end - 1] == '\r' ? end - 1 : end;
      return new String(bytes, from, stop - from, StandardCharsets.UTF_8);
    }

    synchronized void describeInto(StringBuilder text, String name) {
      int start = Math.max(0, size - SHOWN_BYTES);
      text.append("--- ").append(name);
      if (start > 0) {
        text.append(" (last ").append(SHOWN_BYTES).append(" of ").append(size).append(" bytes)");
      }
      if (!ended) {
        text.append(" (still open)");
      }
      text.append(" ---\n");
      text.append(new String(bytes, start, size - start, StandardCharsets.UTF_8));
      if (size > 0 && bytes[size - 1] != '\n') {
        text.append('\n');
      }
    }
  }
}
