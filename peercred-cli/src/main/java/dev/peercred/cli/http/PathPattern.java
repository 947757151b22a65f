package dev.peercred.cli.http;

import java.util.List;

/**
 * A rule's path: literal segments, {@code {name}} for exactly one segment, {@code *} likewise, and
 * a final {@code **} for the rest (none or more segments). Matched against {@link
 * CanonicalPath#segments()}, case-sensitively.
 *
 * <p>Endpoints that switch protocols into something the guard cannot inspect, Docker's {@code
 * /session} (HTTP/2 for BuildKit) and {@code /grpc}, are matched only by a pattern that names them
 * literally: {@code /**} and {@code /{x}} do not reach them.
 *
 * @param text the pattern as written
 * @param segments its segments
 */
record PathPattern(String text, List<String> segments) {
  /** Paths only a literal pattern may match. */
  private static final List<String> LITERAL_ONLY = List.of("session", "grpc");

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  static PathPattern parse(String text) {
    if (text.equals("/")) {
      return new PathPattern(text, List.of());
    }
    if (!text.startsWith("/")) {
      throw new IllegalArgumentException("a path pattern starts with '/': " + text);
    }
    List<String> segments = List.of(text.substring(1).split("/", -1));
    for (int i = 0; i < segments.size(); i++) {
      String s = segments.get(i);
      if (s.isEmpty()) {
        throw new IllegalArgumentException("empty segment in path pattern " + text);
      }
      if (s.equals("**") && i != segments.size() - 1) {
        throw new IllegalArgumentException("'**' must be the last segment: " + text);
      }
      if (s.contains("**") && !s.equals("**")
          || s.contains("*") && !s.equals("*") && !s.equals("**")) {
        throw new IllegalArgumentException("'*' and '**' stand for whole segments only: " + text);
      }
      if (s.startsWith("{") != s.endsWith("}") || s.startsWith("{") && s.length() == 2) {
        throw new IllegalArgumentException("a parameter is written {name}: " + text);
      }
      if (s.equals(".") || s.equals("..") || s.contains("%") || s.contains("?")) {
        throw new IllegalArgumentException(
            "a path pattern has no dot segments, escapes or query: " + text);
      }
    }
    return new PathPattern(text, segments);
  }

  /** True if only a pattern naming it literally may match {@code path}. */
  static boolean isLiteralOnly(CanonicalPath path) {
    return !path.segments().isEmpty() && LITERAL_ONLY.contains(path.segments().get(0));
  }

  /** True if this pattern matches {@code path}. */
  boolean matches(CanonicalPath path) {
    List<String> actual = path.segments();
    if (isLiteralOnly(path) && (segments.isEmpty() || !segments.get(0).equals(actual.get(0)))) {
      return false;
    }
    for (int i = 0; i < segments.size(); i++) {
      String s = segments.get(i);
      if (s.equals("**")) {
        return true;
      }
      if (i >= actual.size()) {
        return false;
      }
      if (!isWildcard(s) && !s.equals(actual.get(i))) {
        return false;
      }
    }
    return segments.size() == actual.size();
  }

  private static boolean isWildcard(String segment) {
    return segment.equals("*") || segment.startsWith("{");
  }

  @Override
  public String toString() {
    return text;
  }
}
