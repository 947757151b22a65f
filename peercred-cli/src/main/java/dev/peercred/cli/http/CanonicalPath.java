package dev.peercred.cli.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The path of a request target as the backend will route it, or a refusal where that is ambiguous.
 *
 * <p>Docker (Go's {@code net/url} and gorilla/mux) routes on the percent-decoded path, and answers
 * dot segments and repeated slashes with a redirect instead of a refusal; other Unix-socket APIs
 * differ. So the guard decodes the path once, the way they do, and refuses every form whose routing
 * could differ between the guard and the backend: percent-encoded {@code /}, {@code .} or {@code
 * \}, an encoded NUL or control character, invalid escapes or UTF-8, dot segments, empty segments
 * (including a trailing slash) and anything but an origin-form target ({@code /path?query}).
 *
 * <p>The API version prefix is removed for matching: {@code /v1.41/containers/json} and Podman's
 * {@code /v4.0.0/libpod/containers/json} (and {@code /libpod/...}) are matched as {@code
 * /containers/json}. The query string is not matched; it is forwarded unchanged.
 *
 * @param path the decoded path with its version prefix, for the audit record
 * @param route the decoded path without version prefix: what rules match
 * @param segments {@code route} split at {@code /}, without the empty first one
 */
record CanonicalPath(String path, String route, List<String> segments) {
  /**
   * A version prefix as the backends' routers match it: the Engine's {@code /v{version:[0-9.]+}}
   * and Podman's {@code /v{version:[0-9][0-9A-Za-z.-]*}}. Whatever they route as a version is
   * removed here too, or {@code /v1.41.0.0/session} would reach the Engine's {@code /session} under
   * a name that rules do not see.
   */
  private static final Pattern VERSION = Pattern.compile("v(?:[0-9.]+|[0-9][0-9A-Za-z.-]*)");

  /**
   * Canonicalizes the request target {@code target} (the second word of the request line).
   *
   * @throws HttpException (400) naming what is ambiguous
   */
  static CanonicalPath of(String target) throws HttpException {
    if (target.isEmpty() || target.charAt(0) != '/') {
      throw HttpException.badRequest(
          target.startsWith("http:") || target.startsWith("https:")
              ? "absolute-form request targets are not accepted: " + quote(target)
              : "the request target must start with '/': " + quote(target));
    }
    int query = target.indexOf('?');
    String raw = query < 0 ? target : target.substring(0, query);
    int fragment = raw.indexOf('#');
    if (fragment >= 0) {
      throw HttpException.badRequest("a request target has no fragment: " + quote(target));
    }
    String decoded = decode(raw);
    List<String> segments = List.of(decoded.substring(1).split("/", -1));
    if (decoded.equals("/")) {
      segments = List.of();
    }
    for (String segment : segments) {
      if (segment.isEmpty()) {
        throw HttpException.badRequest("empty path segment in " + quote(target));
      }
      if (segment.equals(".") || segment.equals("..")) {
        throw HttpException.badRequest("dot segment in " + quote(target));
      }
    }
    int skip = 0;
    if (!segments.isEmpty() && VERSION.matcher(segments.get(0)).matches()) {
      skip = 1;
    }
    if (segments.size() > skip && segments.get(skip).equals("libpod")) {
      skip++;
    }
    List<String> route = segments.subList(skip, segments.size());
    return new CanonicalPath(decoded, "/" + String.join("/", route), List.copyOf(route));
  }

  /** Percent-decodes {@code raw}, refusing what would change the path's structure. */
  private static String decode(String raw) throws HttpException {
    if (raw.indexOf('%') < 0) {
      checkCharacters(raw, raw);
      return raw;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c != '%') {
        bytes.write(c);
        continue;
      }
      if (i + 2 >= raw.length() || hex(raw.charAt(i + 1)) < 0 || hex(raw.charAt(i + 2)) < 0) {
        throw HttpException.badRequest("invalid percent-escape in " + quote(raw));
      }
      int b = hex(raw.charAt(i + 1)) << 4 | hex(raw.charAt(i + 2));
      if (b == '/' || b == '.' || b == '\\') {
        throw HttpException.badRequest(
            "percent-encoded '" + (char) b + "' in the path " + quote(raw));
      }
      bytes.write(b);
      i += 2;
    }
    String decoded;
    try {
      decoded =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes.toByteArray()))
              .toString();
    } catch (CharacterCodingException e) {
      throw HttpException.badRequest("the path is not valid UTF-8: " + quote(raw));
    }
    checkCharacters(decoded, raw);
    return decoded;
  }

  private static void checkCharacters(String path, String raw) throws HttpException {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c < 0x21 || c == 0x7F) {
        throw HttpException.badRequest("control character or space in the path " + quote(raw));
      }
    }
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }

  /** Quotes peer-supplied text for a message, cut to a readable length. */
  static String quote(String text) {
    String cut = text.length() > 120 ? text.substring(0, 120) + "..." : text;
    StringBuilder out = new StringBuilder("'");
    for (int i = 0; i < cut.length(); i++) {
      char c = cut.charAt(i);
      out.append(c < 0x20 || c == 0x7F ? String.format("\\x%02x", (int) c) : String.valueOf(c));
    }
    return out.append('\'').toString();
  }
}
