package dev.peercred.cli.http;

/**
 * A request the guard refuses before any rule is consulted: malformed, ambiguous, or beyond a
 * limit. It is answered with {@link #status()} and never reaches the backend.
 */
final class HttpException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int status;

  /**
   * A refusal with {@code status} (400, 413, 431, 501) and what was wrong, for the client and the
   * audit record.
   */
  HttpException(int status, String message) {
    super(message);
    this.status = status;
  }

  static HttpException badRequest(String message) {
    return new HttpException(400, message);
  }

  /** The HTTP status the client is answered with. */
  int status() {
    return status;
  }
}
