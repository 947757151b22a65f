package dev.peercred.benchmarks;

import java.util.Arrays;

/**
 * The echo behaviour every Java reference server shares: complete lines come back with {@code "> "}
 * in front; a partial line waits for the rest. One instance per connection, not thread-safe.
 */
final class LineEcho {
  static final byte[] UNAUTHORIZED = "Unauthorized access\n".getBytes();
  static final int MAX_LINE = 64 * 1024;

  /** Sized like the peercred example's buffers: small while idle, grown when lines need it. */
  static final int INITIAL_BUFFER = 1024;

  static final int BULK_BUFFER = 8192;

  private byte[] pending = new byte[0];
  private int filled;
  private byte[] out = new byte[INITIAL_BUFFER + 2];
  private int outLength;

  /**
   * Consumes {@code bytes[0..n)}; afterwards {@link #out()} holds {@link #outLength()} bytes to
   * send.
   *
   * @return false if a line grew beyond {@link #MAX_LINE} (the connection should end)
   */
  boolean accept(byte[] bytes, int n) {
    outLength = 0;
    int start = 0;
    for (int i = 0; i < n; i++) {
      if (bytes[i] == '\n') {
        int line = i + 1 - start;
        ensureOut(outLength + 2 + filled + line);
        out[outLength++] = '>';
        out[outLength++] = ' ';
        if (filled > 0) {
          System.arraycopy(pending, 0, out, outLength, filled);
          outLength += filled;
          filled = 0;
        }
        System.arraycopy(bytes, start, out, outLength, line);
        outLength += line;
        start = i + 1;
      }
    }
    int rest = n - start;
    if (rest > 0) {
      if (filled + rest > MAX_LINE) {
        return false;
      }
      if (filled + rest > pending.length) {
        pending =
            Arrays.copyOf(pending, Math.max(pending.length * 2, Math.max(filled + rest, 256)));
      }
      System.arraycopy(bytes, start, pending, filled, rest);
      filled += rest;
    }
    return true;
  }

  private void ensureOut(int size) {
    if (size > out.length) {
      out = Arrays.copyOf(out, Math.max(out.length * 2, size));
    }
  }

  /** A read buffer for {@code n} bytes just read into {@code in}: doubled if the read filled it. */
  static byte[] grow(byte[] in, int n) {
    return n == in.length && in.length < BULK_BUFFER ? new byte[in.length * 2] : in;
  }

  byte[] out() {
    return out;
  }

  int outLength() {
    return outLength;
  }
}
