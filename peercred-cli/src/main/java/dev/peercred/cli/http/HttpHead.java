package dev.peercred.cli.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The head of an HTTP/1.x message (start line and header fields), parsed strictly: every line ends
 * with CRLF, and a bare CR or LF, a folded line, a space before a colon, a control character or a
 * malformed field name is refused, since a backend might read any of them differently (request
 * smuggling, CWE-444).
 *
 * <p>The head keeps its bytes and where each field's name and value are in them: a value becomes a
 * string only when it is looked up, since most fields of most messages are never read.
 */
final class HttpHead {
  /** The largest head accepted; beyond it a request gets 431. */
  static final int MAX_LENGTH = 32 * 1024;

  /** The most header fields accepted. */
  static final int MAX_FIELDS = 128;

  /**
   * Where the head that starts at {@code bytes}' position ends: the offset (from the position) just
   * past its empty line, or -1 if it has not all arrived. {@code scanned} is how many bytes were
   * already searched without finding it, to resume there.
   */
  static int end(ByteBuffer bytes, int scanned) {
    int start = bytes.position();
    int limit = bytes.limit();
    for (int i = Math.max(start + 3, start + scanned - 3); i < limit; i++) {
      if (bytes.get(i) == '\n'
          && bytes.get(i - 1) == '\r'
          && bytes.get(i - 2) == '\n'
          && bytes.get(i - 3) == '\r') {
        return i + 1 - start;
      }
    }
    return -1;
  }

  private final String startLine;
  private final byte[] bytes;

  /**
   * Where field {@code i} is in {@link #bytes}: its name from {@code spans[4 * i]} to {@code
   * spans[4 * i + 1]}, its value from {@code spans[4 * i + 2]} to {@code spans[4 * i + 3]} (ends
   * excluded).
   */
  private final int[] spans;

  private final int count;

  private HttpHead(String startLine, byte[] bytes, int[] spans, int count) {
    this.startLine = startLine;
    this.bytes = bytes;
    this.spans = spans;
    this.count = count;
  }

  /** The request line or status line. */
  String startLine() {
    return startLine;
  }

  /** The head's length in bytes, its final empty line included. */
  int length() {
    return bytes.length;
  }

  /**
   * Parses the {@code length} bytes at {@code bytes}' position (a whole head, as {@link #end} found
   * it); does not move the position.
   *
   * @throws HttpException (400) naming the first problem
   */
  static HttpHead parse(ByteBuffer bytes, int length) throws HttpException {
    byte[] head = new byte[length];
    bytes.get(bytes.position(), head); // one bulk copy; the fields are read from the array
    int[] spans = new int[4 * 8];
    int count = 0;
    String startLine = null;
    int lineStart = 0;
    for (int i = 0; i < length; i++) {
      byte b = head[i];
      if (b == '\r') {
        if (i + 1 >= length || head[i + 1] != '\n') {
          throw HttpException.badRequest("a bare CR in the message head");
        }
        int lineEnd = i;
        i++;
        if (startLine == null) {
          if (lineEnd == lineStart) {
            throw HttpException.badRequest("an empty line before the start line");
          }
          startLine = latin1(head, lineStart, lineEnd);
        } else if (lineEnd == lineStart) {
          break; // the end of the head
        } else {
          if (count == MAX_FIELDS) {
            throw new HttpException(431, "more than " + MAX_FIELDS + " header fields");
          }
          if (spans.length < 4 * (count + 1)) {
            spans = Arrays.copyOf(spans, spans.length * 2);
          }
          field(head, lineStart, lineEnd, spans, 4 * count++);
        }
        lineStart = i + 1;
      } else if (b == '\n') {
        throw HttpException.badRequest("a bare LF in the message head");
      } else if (b == 0) {
        throw HttpException.badRequest("a NUL byte in the message head");
      }
    }
    return new HttpHead(startLine, head, spans, count);
  }

  private static String latin1(byte[] bytes, int from, int to) {
    return new String(bytes, from, to - from, StandardCharsets.ISO_8859_1);
  }

  /**
   * Checks the field on {@code line[from, to)} and stores where its name and its value (without its
   * optional white space) are into {@code spans} at {@code at}.
   */
  private static void field(byte[] line, int from, int to, int[] spans, int at)
      throws HttpException {
    byte first = line[from];
    if (first == ' ' || first == '\t') {
      throw HttpException.badRequest("a folded header line (obs-fold)");
    }
    int colon = from;
    while (colon < to && line[colon] != ':') {
      colon++;
    }
    if (colon == from || colon == to) {
      throw HttpException.badRequest(
          "a header line without a field name: " + quote(latin1(line, from, to)));
    }
    for (int i = from; i < colon; i++) {
      if (!isTokenChar((char) (line[i] & 0xFF))) {
        throw HttpException.badRequest(
            "an invalid header field name: " + quote(latin1(line, from, colon)));
      }
    }
    int start = colon + 1;
    int end = to;
    while (start < end && isWhiteSpace(line[start])) {
      start++;
    }
    while (end > start && isWhiteSpace(line[end - 1])) {
      end--;
    }
    for (int i = start; i < end; i++) {
      int c = line[i] & 0xFF;
      if (c < 0x20 && c != '\t' || c == 0x7F) {
        throw HttpException.badRequest(
            "a control character in header field " + quote(latin1(line, from, colon)));
      }
    }
    spans[at] = from;
    spans[at + 1] = colon;
    spans[at + 2] = start;
    spans[at + 3] = end;
  }

  /** Optional white space (around a field value and a list element): space and tab. */
  private static boolean isWhiteSpace(int c) {
    return c == ' ' || c == '\t';
  }

  /** True for the characters of an RFC 9110 token. */
  static boolean isTokenChar(char c) {
    return c > 0x20 && c < 0x7F && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
  }

  /** True if field {@code i}'s name is {@code name}, an ASCII name, ignoring case. */
  private boolean named(int i, String name) {
    int from = spans[4 * i];
    int length = spans[4 * i + 1] - from;
    if (length != name.length()) {
      return false;
    }
    for (int k = 0; k < length; k++) {
      int a = bytes[from + k];
      int b = name.charAt(k);
      if (a != b && ((a | 0x20) < 'a' || (a | 0x20) > 'z' || (a ^ 0x20) != b)) {
        return false; // the same ASCII letter in the other case is the only other match
      }
    }
    return true;
  }

  private String value(int i) {
    return latin1(bytes, spans[4 * i + 2], spans[4 * i + 3]);
  }

  /** Every value of the fields named {@code name} (case-insensitive), in order. */
  List<String> values(String name) {
    List<String> values = List.of();
    for (int i = 0; i < count; i++) {
      if (named(i, name)) {
        if (values.isEmpty()) {
          values = new ArrayList<>(2);
        }
        values.add(value(i));
      }
    }
    return values;
  }

  /** The value of the first field named {@code name}, or null if there is none. */
  String first(String name) {
    for (int i = 0; i < count; i++) {
      if (named(i, name)) {
        return value(i);
      }
    }
    return null;
  }

  /**
   * The value of the field named {@code name}, or null if there is none.
   *
   * @throws HttpException (400) if the field appears more than once
   */
  String single(String name) throws HttpException {
    int found = -1;
    for (int i = 0; i < count; i++) {
      if (named(i, name)) {
        if (found >= 0) {
          throw HttpException.badRequest("more than one " + name + " header field");
        }
        found = i;
      }
    }
    return found < 0 ? null : value(found);
  }

  /** True if a comma-separated field named {@code name} lists {@code token} (case-insensitive). */
  boolean hasToken(String name, String token) {
    for (int i = 0; i < count; i++) {
      if (named(i, name) && lists(value(i), token)) {
        return true;
      }
    }
    return false;
  }

  /** True if an element of the comma-separated {@code value}, without OWS, is {@code token}. */
  private static boolean lists(String value, String token) {
    int from = 0;
    int length = value.length();
    while (from <= length) {
      int comma = value.indexOf(',', from);
      int to = comma < 0 ? length : comma;
      int start = from;
      int end = to;
      while (start < end && isWhiteSpace(value.charAt(start))) {
        start++;
      }
      while (end > start && isWhiteSpace(value.charAt(end - 1))) {
        end--;
      }
      if (end - start == token.length()
          && value.regionMatches(true, start, token, 0, end - start)) {
        return true;
      }
      if (comma < 0) {
        return false;
      }
      from = comma + 1;
    }
    return false;
  }

  /**
   * How the body that follows is delimited, from {@code Content-Length} and {@code
   * Transfer-Encoding}; {@code none} if neither is present (the caller decides what that means).
   *
   * @throws HttpException (400) for duplicate or conflicting fields, a malformed length; (501) for
   *     a transfer coding other than {@code chunked}
   */
  Framing framing() throws HttpException {
    List<String> encodings = values("Transfer-Encoding");
    List<String> lengths = values("Content-Length");
    if (!encodings.isEmpty()) {
      if (!lengths.isEmpty()) {
        throw HttpException.badRequest("both Transfer-Encoding and Content-Length");
      }
      if (encodings.size() > 1) {
        throw HttpException.badRequest("more than one Transfer-Encoding header field");
      }
      if (!encodings.get(0).toLowerCase(Locale.ROOT).equals("chunked")) {
        throw new HttpException(
            501, "only the chunked transfer coding is accepted, not " + quote(encodings.get(0)));
      }
      return Framing.CHUNKED;
    }
    if (lengths.isEmpty()) {
      return Framing.NONE;
    }
    if (lengths.size() > 1) {
      throw HttpException.badRequest("more than one Content-Length header field");
    }
    String text = lengths.get(0);
    if (text.isEmpty() || text.length() > 18) {
      throw HttpException.badRequest("an invalid Content-Length: " + quote(text));
    }
    long length = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw HttpException.badRequest("an invalid Content-Length: " + quote(text));
      }
      length = length * 10 + (c - '0');
    }
    return Framing.length(length);
  }

  /**
   * How a message body is delimited.
   *
   * @param kind none, a length, chunked
   * @param length the length, for {@link Kind#LENGTH}
   */
  record Framing(Kind kind, long length) {
    enum Kind {
      NONE,
      LENGTH,
      CHUNKED
    }

    static final Framing NONE = new Framing(Kind.NONE, 0);
    static final Framing CHUNKED = new Framing(Kind.CHUNKED, 0);

    static Framing length(long length) {
      return new Framing(Kind.LENGTH, length);
    }

    /** True if a body follows: a length above zero, or chunks. */
    boolean hasBody() {
      return kind == Kind.CHUNKED || kind == Kind.LENGTH && length > 0;
    }
  }

  static String quote(String text) {
    return CanonicalPath.quote(text);
  }
}
