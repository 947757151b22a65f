package dev.peercred.cli.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The head of an HTTP/1.x message (start line and header fields), parsed strictly: every line ends
 * with CRLF, and a bare CR or LF, a folded line, a space before a colon, a control character or a
 * malformed field name is refused, since a backend might read any of them differently (request
 * smuggling, CWE-444).
 *
 * @param startLine the request line or status line
 * @param fields the header fields in order, each {@code {name, value}} with the value trimmed
 * @param length the head's length in bytes, its final empty line included
 */
record HttpHead(String startLine, List<String[]> fields, int length) {
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

  /**
   * Parses the {@code length} bytes at {@code bytes}' position (a whole head, as {@link #end} found
   * it); does not move the position.
   *
   * @throws HttpException (400) naming the first problem
   */
  static HttpHead parse(ByteBuffer bytes, int length) throws HttpException {
    int start = bytes.position();
    int end = start + length;
    List<String[]> fields = new ArrayList<>();
    String startLine = null;
    int lineStart = start;
    for (int i = start; i < end; i++) {
      byte b = bytes.get(i);
      if (b == '\r') {
        if (i + 1 >= end || bytes.get(i + 1) != '\n') {
          throw HttpException.badRequest("a bare CR in the message head");
        }
        String line = latin1(bytes, lineStart, i);
        i++;
        lineStart = i + 1;
        if (startLine == null) {
          if (line.isEmpty()) {
            throw HttpException.badRequest("an empty line before the start line");
          }
          startLine = line;
        } else if (line.isEmpty()) {
          break; // the end of the head
        } else {
          if (fields.size() == MAX_FIELDS) {
            throw new HttpException(431, "more than " + MAX_FIELDS + " header fields");
          }
          fields.add(field(line));
        }
      } else if (b == '\n') {
        throw HttpException.badRequest("a bare LF in the message head");
      } else if (b == 0) {
        throw HttpException.badRequest("a NUL byte in the message head");
      }
    }
    return new HttpHead(startLine, List.copyOf(fields), length);
  }

  private static String latin1(ByteBuffer bytes, int from, int to) {
    byte[] line = new byte[to - from];
    bytes.get(from, line); // one bulk copy, then the JDK's Latin-1 string (no decoding loop here)
    return new String(line, StandardCharsets.ISO_8859_1);
  }

  private static String[] field(String line) throws HttpException {
    char first = line.charAt(0);
    if (first == ' ' || first == '\t') {
      throw HttpException.badRequest("a folded header line (obs-fold)");
    }
    int colon = line.indexOf(':');
    if (colon <= 0) {
      throw HttpException.badRequest("a header line without a field name: " + quote(line));
    }
    String name = line.substring(0, colon);
    for (int i = 0; i < name.length(); i++) {
      if (!isTokenChar(name.charAt(i))) {
        throw HttpException.badRequest("an invalid header field name: " + quote(name));
      }
    }
    String value = line.substring(colon + 1).strip();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 && c != '\t' || c == 0x7F) {
        throw HttpException.badRequest("a control character in header field " + quote(name));
      }
    }
    return new String[] {name, value};
  }

  /** True for the characters of an RFC 9110 token. */
  static boolean isTokenChar(char c) {
    return c > 0x20 && c < 0x7F && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
  }

  /** Every value of the fields named {@code name} (case-insensitive), in order. */
  List<String> values(String name) {
    List<String> values = new ArrayList<>(1);
    for (String[] field : fields) {
      if (field[0].equalsIgnoreCase(name)) {
        values.add(field[1]);
      }
    }
    return values;
  }

  /**
   * The value of the field named {@code name}, or null if there is none.
   *
   * @throws HttpException (400) if the field appears more than once
   */
  String single(String name) throws HttpException {
    List<String> values = values(name);
    if (values.size() > 1) {
      throw HttpException.badRequest("more than one " + name + " header field");
    }
    return values.isEmpty() ? null : values.get(0);
  }

  /** True if a comma-separated field named {@code name} lists {@code token} (case-insensitive). */
  boolean hasToken(String name, String token) {
    for (String value : values(name)) {
      for (String element : value.split(",")) {
        if (element.strip().equalsIgnoreCase(token)) {
          return true;
        }
      }
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
    if (text.isEmpty() || text.length() > 18 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw HttpException.badRequest("an invalid Content-Length: " + quote(text));
    }
    return Framing.length(Long.parseLong(text));
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
