package dev.peercred.cli;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A tiny JSON writer for one flat object per line: strings, numbers, booleans, null and lists of
 * those. Keys keep their insertion order. Enough for the audit trail and {@code whoami --json}, and
 * no dependency.
 */
final class Json {
  private Json() {}

  /** An ordered map for building an object. */
  static Map<String, Object> object() {
    return new LinkedHashMap<>();
  }

  /** Writes {@code object} as one line of JSON (no trailing newline). */
  static String write(Map<String, ?> object) {
    StringBuilder out = new StringBuilder(256);
    writeValue(out, object);
    return out.toString();
  }

  private static void writeValue(StringBuilder out, Object value) {
    switch (value) {
      case null -> out.append("null");
      case Boolean b -> out.append(b);
      case Integer i -> out.append(i);
      case Long l -> out.append(l);
      case Double d when !d.isNaN() && !d.isInfinite() -> out.append(d);
      case Map<?, ?> map -> {
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (!first) {
            out.append(',');
          }
          first = false;
          writeString(out, String.valueOf(e.getKey()));
          out.append(':');
          writeValue(out, e.getValue());
        }
        out.append('}');
      }
      case Collection<?> list -> {
        out.append('[');
        boolean first = true;
        for (Object item : list) {
          if (!first) {
            out.append(',');
          }
          first = false;
          writeValue(out, item);
        }
        out.append(']');
      }
      default -> writeString(out, value.toString());
    }
  }

  private static void writeString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /**
   * Parses one JSON value: objects (as ordered maps), arrays (as lists), strings, numbers (as
   * {@code Long} or {@code Double}), booleans and null.
   *
   * @throws IllegalArgumentException if the text is not valid JSON
   */
  static Object parse(String text) {
    Parser parser = new Parser(text);
    Object value = parser.value();
    parser.skipSpace();
    if (parser.at < text.length()) {
      throw parser.error("trailing characters");
    }
    return value;
  }

  private static final class Parser {
    final String s;
    int at;

    Parser(String s) {
      this.s = s;
    }

    IllegalArgumentException error(String what) {
      return new IllegalArgumentException("invalid JSON at offset " + at + ": " + what);
    }

    void skipSpace() {
      while (at < s.length() && " \t\r\n".indexOf(s.charAt(at)) >= 0) {
        at++;
      }
    }

    char peek() {
      skipSpace();
      if (at >= s.length()) {
        throw error("unexpected end");
      }
      return s.charAt(at);
    }

    void expect(char c) {
      if (peek() != c) {
        throw error("expected '" + c + "'");
      }
      at++;
    }

    Object value() {
      char c = peek();
      switch (c) {
        case '{' -> {
          at++;
          Map<String, Object> map = object();
          if (peek() == '}') {
            at++;
            return map;
          }
          while (true) {
            String key = string();
            expect(':');
            map.put(key, value());
            if (peek() == ',') {
              at++;
              continue;
            }
            expect('}');
            return map;
          }
        }
        case '[' -> {
          at++;
          java.util.List<Object> list = new java.util.ArrayList<>();
          if (peek() == ']') {
            at++;
            return list;
          }
          while (true) {
            list.add(value());
            if (peek() == ',') {
              at++;
              continue;
            }
            expect(']');
            return list;
          }
        }
        case '"' -> {
          return string();
        }
        default -> {
          for (String word : new String[] {"true", "false", "null"}) {
            if (s.startsWith(word, at)) {
              at += word.length();
              return word.equals("null") ? null : Boolean.valueOf(word);
            }
          }
          int start = at;
          while (at < s.length() && "+-0123456789.eE".indexOf(s.charAt(at)) >= 0) {
            at++;
          }
          String number = s.substring(start, at);
          try {
            return number.matches("-?\\d+")
                ? (Object) Long.valueOf(number)
                : Double.valueOf(number);
          } catch (NumberFormatException e) {
            at = start;
            throw error("unexpected character '" + c + "'");
          }
        }
      }
    }

    String string() {
      if (peek() != '"') {
        throw error("expected a string");
      }
      at++;
      StringBuilder out = new StringBuilder();
      while (true) {
        if (at >= s.length()) {
          throw error("unterminated string");
        }
        char c = s.charAt(at++);
        if (c == '"') {
          return out.toString();
        }
        if (c != '\\') {
          out.append(c);
          continue;
        }
        if (at >= s.length()) {
          throw error("unterminated escape");
        }
        char e = s.charAt(at++);
        switch (e) {
          case '"', '\\', '/' -> out.append(e);
          case 'n' -> out.append('\n');
          case 'r' -> out.append('\r');
          case 't' -> out.append('\t');
          case 'b' -> out.append('\b');
          case 'f' -> out.append('\f');
          case 'u' -> {
            if (at + 4 > s.length()) {
              throw error("short \\u escape");
            }
            try {
              out.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
            } catch (NumberFormatException x) {
              throw error("bad \\u escape");
            }
            at += 4;
          }
          default -> throw error("bad escape '\\" + e + "'");
        }
      }
    }
  }
}
