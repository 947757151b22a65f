package dev.peercred.cli;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The optional "how do you see me" exchange between {@code peercred whoami} and a peercred server
 * such as {@code peercred proxy}.
 *
 * <p>The client sends {@link #PROBE} ({@code "\0PEERCRED WHOAMI/1\n"}, starting with a NUL byte so
 * that no text protocol can mistake it for a request of its own) as the first bytes of the
 * connection. A server that offers the exchange does not pass the probe on; it answers with one
 * line, {@link #REPLY_PREFIX} ({@code "PEERCRED/1 "}) followed by a JSON object describing the
 * client as the server saw it at accept time, and closes the connection. A server that does not
 * know the probe answers something else or nothing, which the client reports as "not offered".
 *
 * <p>The answer line is at most 64 KiB, UTF-8, and its object has at least {@code uid} and {@code
 * gid} (integers 0 to 2<sup>32</sup>-1) and {@code pid} (a positive integer, or null when the
 * server cannot see the client's pid); {@code groups} is a list of such integers, and {@code
 * server}, {@code user}, {@code group}, {@code exe}, {@code label} and {@code decision} are
 * strings, each possibly null. {@link WhoamiReply} checks all of that on the client.
 */
final class WhoamiProtocol {
  private WhoamiProtocol() {}

  /** The probe, sent as the first bytes of a connection. */
  static final byte[] PROBE = "\0PEERCRED WHOAMI/1\n".getBytes(StandardCharsets.US_ASCII);

  /** The start of the answer line; a JSON object and a newline follow. */
  static final String REPLY_PREFIX = "PEERCRED/1 ";

  /** How a prefix of the first bytes compares with the probe. */
  enum Match {
    PROBE,
    NOT_PROBE,
    UNDECIDED
  }

  /** Compares the first {@code length} bytes received with the probe. */
  static Match match(byte[] bytes, int length) {
    int n = Math.min(length, PROBE.length);
    if (!Arrays.equals(bytes, 0, n, PROBE, 0, n)) {
      return Match.NOT_PROBE;
    }
    return length >= PROBE.length ? Match.PROBE : Match.UNDECIDED;
  }
}
