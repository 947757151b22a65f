package dev.peercred.cli;

import dev.peercred.UnixConnection;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The client's side of the whoami exchange ({@link WhoamiProtocol}): reads the server's answer line
 * and checks it, trusting nothing the server sends.
 *
 * <p>The line is read with one deadline for all of it, at most {@link #MAX_LENGTH} bytes, and is
 * parsed with {@link Json}'s limits. A server whose first bytes are not {@link
 * WhoamiProtocol#REPLY_PREFIX} (or that sends nothing, or closes) does not offer the exchange. A
 * server that starts the answer must finish it: a reply that is truncated, late, too long, not
 * UTF-8, not JSON, not an object, or whose documented fields have the wrong type is an {@link
 * InvalidReplyException} that says what was wrong.
 */
final class WhoamiReply {
  private WhoamiReply() {}

  /** The longest reply line, prefix and newline included. */
  static final int MAX_LENGTH = 64 * 1024;

  private static final byte[] PREFIX =
      WhoamiProtocol.REPLY_PREFIX.getBytes(StandardCharsets.US_ASCII);

  /** The server began the answer but what it sent is not a valid whoami reply. */
  static final class InvalidReplyException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidReplyException(String message) {
      super(message);
    }
  }

  /**
   * Reads the server's answer to the probe within {@code timeout}: how the server sees us, or empty
   * if the server does not offer the exchange.
   *
   * @throws InvalidReplyException if the server began an answer that is not a valid reply; the
   *     message is one printable line
   */
  static Optional<Map<String, Object>> read(UnixConnection connection, Duration timeout)
      throws InvalidReplyException {
    byte[] line = new byte[MAX_LENGTH];
    int length = 0;
    long deadline = System.nanoTime() + timeout.toNanos();
    InputStream in = connection.inputStream();
    while (true) {
      int n;
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new SocketTimeoutException();
        }
        connection.setReadTimeout(Duration.ofNanos(Math.max(left, 1_000_000)));
        n = in.read(line, length, line.length - length);
      } catch (SocketTimeoutException e) {
        if (length < PREFIX.length) {
          return Optional.empty(); // nothing, or not enough to be an answer: not offered
        }
        throw new InvalidReplyException(
            "the server's reply stopped after "
                + length
                + " bytes without its newline (waited "
                + DurationConverter.format(timeout)
                + ")");
      } catch (IOException e) {
        if (length < PREFIX.length) {
          return Optional.empty(); // the server hung up on the probe: not offered
        }
        throw new InvalidReplyException(
            "the connection failed during the server's reply: " + Main.describe(e));
      }
      if (n < 0) {
        if (length < PREFIX.length) {
          return Optional.empty();
        }
        throw new InvalidReplyException(
            "the server's reply is truncated: the connection ended after "
                + length
                + " bytes, before the newline");
      }
      int start = length;
      length += n;
      int prefixSeen = Math.min(length, PREFIX.length);
      if (start < prefixSeen
          && !Arrays.equals(line, start, prefixSeen, PREFIX, start, prefixSeen)) {
        return Optional.empty(); // another protocol's answer
      }
      for (int i = Math.max(start, PREFIX.length); i < length; i++) {
        if (line[i] == '\n') {
          return Optional.of(check(parse(line, i)));
        }
      }
      if (length == line.length) {
        throw tooLong(line, length);
      }
    }
  }

  /** Parses the JSON between the prefix and the newline at {@code end}. */
  private static Object parse(byte[] line, int end) throws InvalidReplyException {
    try {
      return Json.parse(line, PREFIX.length, end - PREFIX.length);
    } catch (Json.InvalidJsonException e) {
      throw notJson(e);
    }
  }

  private static InvalidReplyException notJson(Json.InvalidJsonException e) {
    return new InvalidReplyException(
        "the server's reply is not valid whoami JSON: " + e.problem() + " at offset " + e.offset());
  }

  /**
   * A reply with no newline in {@link #MAX_LENGTH} bytes. If what arrived already goes wrong before
   * the cut (nesting too deep, say), that is the clearer message.
   */
  private static InvalidReplyException tooLong(byte[] line, int length) {
    int cut = length;
    for (int back = 0; back < 3 && cut > PREFIX.length && (line[cut - 1] & 0xc0) == 0x80; back++) {
      cut--; // do not judge a UTF-8 sequence that the cut split
    }
    if (cut > PREFIX.length && (line[cut - 1] & 0x80) != 0) {
      cut--;
    }
    try {
      Json.parse(line, PREFIX.length, cut - PREFIX.length);
    } catch (Json.InvalidJsonException e) {
      if (e.offset() < cut - PREFIX.length) { // not merely the end that the cut made
        return notJson(e);
      }
    }
    return new InvalidReplyException(
        "the server's reply is longer than " + MAX_LENGTH + " bytes (no newline)");
  }

  /** The documented fields must have their documented types; others are passed through. */
  private static Map<String, Object> check(Object parsed) throws InvalidReplyException {
    if (!(parsed instanceof Map<?, ?>)) {
      throw new InvalidReplyException(
          "the server's reply is not a JSON object but " + describe(parsed));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> reply = (Map<String, Object>) parsed;
    for (String id : List.of("uid", "gid")) {
      if (!reply.containsKey(id)) {
        throw invalidField(id, "is missing");
      }
      if (!isUnsigned32(reply.get(id))) {
        throw invalidField(
            id, "must be an integer from 0 to 4294967295, not " + describe(reply.get(id)));
      }
    }
    if (!reply.containsKey("pid")) {
      throw invalidField("pid", "is missing");
    }
    Object pid = reply.get("pid");
    if (pid != null && !(pid instanceof Long p && p > 0)) {
      throw invalidField("pid", "must be a positive integer or null, not " + describe(pid));
    }
    Object groups = reply.get("groups");
    if (groups != null
        && !(groups instanceof List<?> list && list.stream().allMatch(WhoamiReply::isUnsigned32))) {
      throw invalidField(
          "groups", "must be a list of integers from 0 to 4294967295, not " + describe(groups));
    }
    for (String text : List.of("server", "user", "group", "exe", "label", "decision")) {
      Object value = reply.get(text);
      if (value != null && !(value instanceof String)) {
        throw invalidField(text, "must be a string or null, not " + describe(value));
      }
    }
    return reply;
  }

  private static InvalidReplyException invalidField(String name, String problem) {
    return new InvalidReplyException(
        "the server's reply is not a whoami reply: '" + name + "' " + problem);
  }

  private static boolean isUnsigned32(Object value) {
    return value instanceof Long l && l >= 0 && l <= 0xFFFF_FFFFL;
  }

  /** A short, printable description of a JSON value, for error messages. */
  private static String describe(Object value) {
    String kind =
        switch (value) {
          case null -> "null";
          case Map<?, ?> m -> "an object";
          case List<?> l -> "an array";
          case String s -> "a string";
          case Boolean b -> "a boolean";
          default -> "a number";
        };
    if (value instanceof Map<?, ?> || value instanceof List<?> || value == null) {
      return kind;
    }
    String text = value instanceof String s ? "\"" + s + "\"" : String.valueOf(value);
    if (text.length() > 40) {
      text = text.substring(0, 40) + "...";
    }
    return kind + " (" + Text.printable(text) + ")";
  }
}
