package dev.peercred.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * CPU time used by processes and threads, from {@code /proc}: for tests that check something does
 * not burn the CPU (a wait that parks, a loop that backs off).
 *
 * <p>Such a test must not compare with a fixed budget of how much CPU the machine would have given
 * it: on a busy machine a spinning thread gets less, a quiet one more. It compares instead with a
 * baseline taken in the same test over the same {@linkplain #usedOver window}: the same threads or
 * the same process while idle. CPU time only grows while a thread runs, so a loaded machine does
 * not inflate it; it can only make a spin harder to see, never a wait look like a spin.
 */
public final class CpuTime {
  private CpuTime() {}

  private static final long TICKS_PER_SECOND = ticksPerSecond();

  /** What to measure: CPU time used so far. */
  @FunctionalInterface
  public interface Meter {
    Duration used() throws IOException;
  }

  /** User plus system time process {@code pid} has used so far. */
  public static Duration ofProcess(long pid) throws IOException {
    return ticks(stat(Path.of("/proc", Long.toString(pid), "stat")));
  }

  /**
   * User plus system time used so far by the threads of this process whose kernel thread name
   * ({@code /proc/self/task/TID/comm}, a Java thread's name cut to 15 characters) starts with one
   * of {@code namePrefixes}: for example {@code "ForkJoinPool"}, the carriers of virtual threads.
   */
  public static Duration ofThreads(String... namePrefixes) throws IOException {
    long ticks = 0;
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String name = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8).strip();
          for (String prefix : namePrefixes) {
            if (name.startsWith(prefix)) {
              ticks += statTicks(Files.readString(task.resolve("stat"), StandardCharsets.UTF_8));
              break;
            }
          }
        } catch (NoSuchFileException threadEnded) {
          // a thread that ended meanwhile no longer counts, on either side of a comparison
        }
      }
    }
    return Duration.ofNanos(ticks * TimeUnit.SECONDS.toNanos(1) / TICKS_PER_SECOND);
  }

  /**
   * How much CPU time {@code meter} shows used over an observation window of {@code window}. The
   * window is wall-clock time on purpose: it is the interval observed, not a wait for anything.
   */
  public static Duration usedOver(Duration window, Meter meter)
      throws IOException, InterruptedException {
    Duration before = meter.used();
    TimeUnit.NANOSECONDS.sleep(window.toNanos());
    return meter.used().minus(before);
  }

  private static String stat(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.US_ASCII);
  }

  private static Duration ticks(String stat) {
    return Duration.ofNanos(statTicks(stat) * TimeUnit.SECONDS.toNanos(1) / TICKS_PER_SECOND);
  }

  /** utime + stime, fields 14 and 15 of {@code proc_pid_stat(5)}; the name may hold spaces. */
  private static long statTicks(String stat) {
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /**
   * Clock ticks per second ({@code getconf CLK_TCK}); 100, Linux's value, if it cannot be asked.
   */
  private static long ticksPerSecond() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
      return p.waitFor() == 0 ? Long.parseLong(out) : 100;
    } catch (IOException | RuntimeException | InterruptedException e) {
      return 100;
    }
  }
}
