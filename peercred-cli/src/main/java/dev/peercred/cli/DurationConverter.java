package dev.peercred.cli;

import java.time.Duration;

/** Reads durations as people write them: {@code 5s}, {@code 250ms}, {@code 2m}, {@code 0}. */
final class DurationConverter {
  private DurationConverter() {}

  /**
   * The duration {@code text} says.
   *
   * @throws IllegalArgumentException saying why it is not a duration
   */
  static Duration convert(String text) {
    String t = text.strip();
    try {
      if (t.equals("0")) {
        return Duration.ZERO;
      }
      if (t.endsWith("ms")) {
        return check(Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2))), text);
      }
      char unit = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
      long value = Long.parseLong(t.substring(0, Math.max(0, t.length() - 1)));
      return check(
          switch (unit) {
            case 's' -> Duration.ofSeconds(value);
            case 'm' -> Duration.ofMinutes(value);
            case 'h' -> Duration.ofHours(value);
            default -> throw new NumberFormatException();
          },
          text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not a duration (examples: 5s, 250ms, 2m, 0)");
    }
  }

  /** Writes {@code d} the way {@link #convert} reads it: {@code 2s}, {@code 250ms}. */
  static String format(Duration d) {
    long millis = d.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }

  private static Duration check(Duration d, String text) {
    if (d.isNegative()) {
      throw new IllegalArgumentException("'" + text + "' is negative");
    }
    return d;
  }
}
