package dev.peercred.internal.linux;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** Reads the few {@code /proc} facts that identify a process ({@code proc(5)}). */
public final class Proc {
  private Proc() {}

  /**
   * {@code USER_HZ}, the unit of {@code /proc/<pid>/stat} times: {@code sysconf(_SC_CLK_TCK)} is
   * 100 on every Linux architecture peercred supports (include/asm-generic/param.h).
   */
  public static final long CLOCK_TICKS_PER_SECOND = 100;

  /** The fields of {@code /proc/<pid>/stat} peercred uses. */
  public record Stat(char state, long ppid, long startTicks) {
    /** True for a zombie ({@code Z}) or a dying ({@code X}) process: it has exited. */
    public boolean hasExited() {
      return state == 'Z' || state == 'X';
    }
  }

  /**
   * Reads a whole {@code /proc} file. {@code Files.readAllBytes} must not be used there: it sizes
   * its read by the file size, which {@code /proc} reports as 0, and gets only the first byte of a
   * sysctl file such as {@code /proc/sys/kernel/overflowuid}.
   */
  public static byte[] readAll(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return in.readAllBytes();
    }
  }

  /** The directory of {@code pid} in {@code /proc}. */
  public static Path dir(long pid) {
    return Path.of("/proc", Long.toString(pid));
  }

  /**
   * Reads {@code /proc/<pid>/stat}: state (field 3), parent pid (field 4) and start time in clock
   * ticks after boot (field 22). The command name (field 2) may hold spaces and parentheses, so the
   * fields are counted from the last {@code ')'}.
   *
   * @throws java.nio.file.NoSuchFileException if there is no such process
   */
  public static Stat stat(long pid) throws IOException {
    String text = new String(readAll(dir(pid).resolve("stat")), StandardCharsets.ISO_8859_1);
    int close = text.lastIndexOf(')');
    if (close < 0 || close + 2 >= text.length()) {
      throw new IOException("unreadable /proc/" + pid + "/stat");
    }
    String[] fields = text.substring(close + 2).trim().split(" ");
    if (fields.length < 20 || fields[0].length() != 1) {
      throw new IOException("unreadable /proc/" + pid + "/stat");
    }
    try {
      return new Stat(fields[0].charAt(0), Long.parseLong(fields[1]), Long.parseLong(fields[19]));
    } catch (NumberFormatException e) {
      throw new IOException("unreadable /proc/" + pid + "/stat", e);
    }
  }

  private static volatile long bootSeconds = -1;

  /** The instant at {@code ticks} clock ticks after boot ({@code btime} in {@code /proc/stat}). */
  public static Instant instantAfterBoot(long ticks) throws IOException {
    long boot = bootSeconds;
    if (boot < 0) {
      String stat = new String(readAll(Path.of("/proc/stat")), StandardCharsets.ISO_8859_1);
      for (String line : stat.split("\n")) {
        if (line.startsWith("btime ")) {
          boot = Long.parseLong(line.substring(6).trim());
        }
      }
      if (boot < 0) {
        throw new IOException("no btime line in /proc/stat");
      }
      bootSeconds = boot;
    }
    return Instant.ofEpochSecond(
        boot + ticks / CLOCK_TICKS_PER_SECOND,
        (ticks % CLOCK_TICKS_PER_SECOND) * (1_000_000_000L / CLOCK_TICKS_PER_SECOND));
  }
}
