package dev.peercred.cli.http;

import java.nio.ByteBuffer;
import java.util.Locale;

/**
 * A response head from the backend, with what the guard must know to find where the response ends
 * (RFC 9112, section 6.3) and whether the connection turns into a byte stream.
 *
 * @param status the status code
 * @param head the parsed head
 * @param framing its {@code Content-Length} or chunked coding; {@code NONE} if neither is given
 */
record Response(int status, HttpHead head, HttpHead.Framing framing) {

  /**
   * Parses the head of {@code length} bytes at {@code bytes}' position.
   *
   * @throws HttpException if it is not a well-formed, unambiguous HTTP/1.x response head
   */
  static Response parse(ByteBuffer bytes, int length) throws HttpException {
    HttpHead head = HttpHead.parse(bytes, length);
    String line = head.startLine();
    if (line.length() < 12
        || !(line.startsWith("HTTP/1.1 ") || line.startsWith("HTTP/1.0 "))
        || (line.length() > 12 && line.charAt(12) != ' ')) {
      throw HttpException.badRequest("not an HTTP/1.x status line: " + HttpHead.quote(line));
    }
    int status;
    try {
      status = Integer.parseInt(line.substring(9, 12));
    } catch (NumberFormatException e) {
      throw HttpException.badRequest("not a status code: " + HttpHead.quote(line));
    }
    if (status < 100 || status > 999) {
      throw HttpException.badRequest("not a status code: " + HttpHead.quote(line));
    }
    return new Response(status, head, head.framing());
  }

  /** True for 1xx responses other than 101: another head follows for the same request. */
  boolean isInterim() {
    return status >= 100 && status < 200 && status != 101;
  }

  /** True if this response to {@code request} has no body at all. */
  boolean hasNoBody(Request request) {
    return request.method().equals("HEAD") || status == 204 || status == 304 || isInterim();
  }

  /**
   * True if, after this head, the connection carries raw bytes both ways: {@code 101 Switching
   * Protocols}, or Docker's hijacked attach and exec streams ({@code 200} with {@code
   * application/vnd.docker.raw-stream} or {@code multiplexed-stream} and no length).
   */
  boolean switchesToStream() {
    if (status == 101) {
      return true;
    }
    if (status != 200 || framing.kind() != HttpHead.Framing.Kind.NONE) {
      return false;
    }
    String type = head.first("Content-Type");
    type = type == null ? "" : type.toLowerCase(Locale.ROOT);
    return type.startsWith("application/vnd.docker.raw-stream")
        || type.startsWith("application/vnd.docker.multiplexed-stream");
  }
}
