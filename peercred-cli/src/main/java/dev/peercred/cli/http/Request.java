package dev.peercred.cli.http;

import java.nio.ByteBuffer;

/**
 * A request head the guard accepts to decide on: origin-form target, HTTP/1.0 or 1.1, a method that
 * is a token, unambiguous framing, at most one {@code Host}.
 *
 * @param method the method, as sent (methods are case-sensitive)
 * @param target the request target, as sent: what is forwarded
 * @param path the canonical path the rules match
 * @param version {@code HTTP/1.1} or {@code HTTP/1.0}
 * @param head the parsed head
 * @param framing how its body is delimited ({@code NONE}: no body)
 * @param upgrade true if it asks to switch protocols ({@code Connection: upgrade} with an {@code
 *     Upgrade} field)
 */
record Request(
    String method,
    String target,
    CanonicalPath path,
    String version,
    HttpHead head,
    HttpHead.Framing framing,
    boolean upgrade) {

  /**
   * Parses and checks the head of {@code length} bytes at {@code bytes}' position.
   *
   * @throws HttpException naming what is malformed or ambiguous
   */
  static Request parse(ByteBuffer bytes, int length) throws HttpException {
    HttpHead head = HttpHead.parse(bytes, length);
    String line = head.startLine();
    int first = line.indexOf(' ');
    int second = first < 0 ? -1 : line.indexOf(' ', first + 1);
    if (first <= 0 || second < 0 || line.indexOf(' ', second + 1) >= 0) {
      throw HttpException.badRequest(
          "the request line is not 'METHOD TARGET VERSION': " + HttpHead.quote(line));
    }
    String method = line.substring(0, first);
    String target = line.substring(first + 1, second);
    String version = line.substring(second + 1);
    for (int i = 0; i < method.length(); i++) {
      if (!HttpHead.isTokenChar(method.charAt(i))) {
        throw HttpException.badRequest("an invalid method: " + HttpHead.quote(method));
      }
    }
    if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
      throw new HttpException(
          version.startsWith("HTTP/2") ? 505 : 400,
          "only HTTP/1.1 and HTTP/1.0 are accepted, not " + HttpHead.quote(version));
    }
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        throw HttpException.badRequest("a request target with a byte outside visible ASCII");
      }
    }
    if (method.equals("CONNECT") || target.equals("*")) {
      throw HttpException.badRequest("CONNECT and '*' requests are not accepted");
    }
    CanonicalPath path = CanonicalPath.of(target);
    head.single("Host"); // more than one Host is ambiguous
    HttpHead.Framing framing = head.framing();
    if (framing.kind() == HttpHead.Framing.Kind.CHUNKED && version.equals("HTTP/1.0")) {
      throw HttpException.badRequest("Transfer-Encoding in an HTTP/1.0 request");
    }
    boolean upgrade = head.hasToken("Connection", "upgrade") && head.first("Upgrade") != null;
    return new Request(method, target, path, version, head, framing, upgrade);
  }

  /** True if the connection stays open after this request's response. */
  boolean keepsAlive() {
    if (head.hasToken("Connection", "close")) {
      return false;
    }
    return version.equals("HTTP/1.1") || head.hasToken("Connection", "keep-alive");
  }
}
