package dev.peercred.cli.http;

import java.nio.ByteBuffer;

/**
 * Where one message body ends, found as its bytes go by: a {@code Content-Length} counted down, or
 * a chunked body followed ({@link ChunkedBody}). Requests and responses alike.
 */
final class MessageBody {
  private final ChunkedBody chunks; // null for a length
  private long left;

  /** The body that {@code framing} announces; {@link HttpHead.Framing#hasBody()} or a length 0. */
  MessageBody(HttpHead.Framing framing) {
    this.chunks = framing.kind() == HttpHead.Framing.Kind.CHUNKED ? new ChunkedBody() : null;
    this.left = framing.length();
  }

  /** True if the body is chunked (its bytes on the wire are not its content). */
  boolean isChunked() {
    return chunks != null;
  }

  /**
   * Follows up to {@code length} bytes starting at absolute index {@code from} of {@code bytes}.
   *
   * @return how many of them belong to the body; fewer than {@code length} only when it ended
   * @throws HttpException (400) if a chunked body is malformed
   */
  int follow(ByteBuffer bytes, int from, int length) throws HttpException {
    if (chunks != null) {
      return chunks.follow(bytes, from, length);
    }
    int n = (int) Math.min(left, length);
    left -= n;
    return n;
  }

  /** True once the whole body has gone by. */
  boolean isDone() {
    return chunks != null ? chunks.isDone() : left == 0;
  }
}
