package dev.peercred.cli.http;

import java.nio.ByteBuffer;

/**
 * Follows a chunked body (RFC 9112, section 7.1) byte by byte to find where it ends, without
 * buffering it: the chunk sizes, optional extensions, the data and the trailer section. Strict: a
 * size line is hex digits then an optional {@code ;extension}, lines end with CRLF, and sizes and
 * lines have limits, so that the guard and the backend cannot disagree about the end.
 */
final class ChunkedBody {
  private static final int MAX_LINE = 1024;
  private static final int MAX_TRAILERS = 32 * 1024;

  private enum State {
    SIZE,
    EXTENSION,
    SIZE_LF,
    DATA,
    DATA_CR,
    DATA_LF,
    TRAILER_START,
    TRAILER,
    TRAILER_LF,
    END_LF,
    DONE
  }

  private State state = State.SIZE;
  private long size;
  private int digits;
  private int lineLength;
  private int trailerLength;
  private boolean lastChunk;

  /** True once the whole body, trailers included, has been seen. */
  boolean isDone() {
    return state == State.DONE;
  }

  /**
   * Follows up to {@code length} bytes starting at absolute index {@code from} of {@code bytes}.
   *
   * @return how many of them belong to the body; fewer than {@code length} only when the body ended
   * @throws HttpException (400) if the bytes are not a well-formed chunked body
   */
  int follow(ByteBuffer bytes, int from, int length) throws HttpException {
    int i = from;
    int end = from + length;
    while (i < end && state != State.DONE) {
      if (state == State.DATA) {
        int take = (int) Math.min(size, end - i);
        i += take;
        size -= take;
        if (size == 0) {
          state = State.DATA_CR;
        }
        continue;
      }
      byte b = bytes.get(i++);
      if (++lineLength > MAX_LINE && state != State.TRAILER) {
        throw HttpException.badRequest("a chunk size line longer than " + MAX_LINE + " bytes");
      }
      switch (state) {
        case SIZE -> {
          int digit = hex(b);
          if (digit >= 0) {
            if (++digits > 15) {
              throw HttpException.badRequest("a chunk size beyond 15 hex digits");
            }
            size = size << 4 | digit;
          } else if (digits == 0) {
            throw HttpException.badRequest("a chunk size line without a size");
          } else if (b == ';') {
            state = State.EXTENSION;
          } else if (b == '\r') {
            state = State.SIZE_LF;
          } else {
            throw HttpException.badRequest("an invalid character in a chunk size line");
          }
        }
        case EXTENSION -> {
          if (b == '\r') {
            state = State.SIZE_LF;
          } else if (b < 0x20 && b != '\t' || b == 0x7F) {
            throw HttpException.badRequest("a control character in a chunk extension");
          }
        }
        case SIZE_LF -> {
          expectLf(b);
          lineLength = 0;
          lastChunk = size == 0;
          digits = 0;
          state = lastChunk ? State.TRAILER_START : State.DATA;
        }
        case DATA_CR -> {
          if (b != '\r') {
            throw HttpException.badRequest("chunk data longer than its size");
          }
          state = State.DATA_LF;
        }
        case DATA_LF -> {
          expectLf(b);
          lineLength = 0;
          state = State.SIZE;
        }
        case TRAILER_START -> {
          if (b == '\r') {
            state = State.END_LF;
          } else {
            trailer(b);
            state = State.TRAILER;
          }
        }
        case TRAILER -> {
          if (b == '\r') {
            state = State.TRAILER_LF;
          } else {
            trailer(b);
          }
        }
        case TRAILER_LF -> {
          expectLf(b);
          lineLength = 0;
          state = State.TRAILER_START;
        }
        case END_LF -> {
          expectLf(b);
          state = State.DONE;
        }
        default -> throw new IllegalStateException(state.toString());
      }
    }
    return i - from;
  }

  private void trailer(byte b) throws HttpException {
    if (++trailerLength > MAX_TRAILERS) {
      throw HttpException.badRequest("a trailer section over " + MAX_TRAILERS + " bytes");
    }
    if (b == '\n' || b == 0) {
      throw HttpException.badRequest("a bare LF or NUL in the trailer section");
    }
  }

  private static void expectLf(byte b) throws HttpException {
    if (b != '\n') {
      throw HttpException.badRequest("a bare CR in a chunked body");
    }
  }

  private static int hex(byte b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }

  /**
   * The content of a whole chunked body (as {@link #follow} found it): the chunks' data joined,
   * without sizes, extensions and trailers.
   *
   * @throws HttpException if {@code body} is not a whole, well-formed chunked body
   */
  static byte[] decode(byte[] body) throws HttpException {
    ChunkedBody check = new ChunkedBody();
    if (check.follow(ByteBuffer.wrap(body), 0, body.length) != body.length || !check.isDone()) {
      throw HttpException.badRequest("not a whole chunked body");
    }
    java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream(body.length);
    int i = 0;
    while (true) {
      int lineEnd = i;
      while (body[lineEnd] != '\r') {
        lineEnd++;
      }
      int sizeEnd = i;
      while (sizeEnd < lineEnd && hex(body[sizeEnd]) >= 0) {
        sizeEnd++;
      }
      long size =
          Long.parseLong(
              new String(body, i, sizeEnd - i, java.nio.charset.StandardCharsets.US_ASCII), 16);
      if (size == 0) {
        return content.toByteArray();
      }
      content.write(body, lineEnd + 2, (int) size);
      i = lineEnd + 2 + (int) size + 2;
    }
  }
}
