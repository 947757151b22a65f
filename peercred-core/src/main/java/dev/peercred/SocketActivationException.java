package dev.peercred;

import java.io.Serial;
import java.net.SocketException;
import java.util.Objects;

/**
 * Inherited sockets cannot be used: the socket-activation variables are wrong, or a descriptor is
 * not a listening {@code AF_UNIX} stream socket. The {@link #reason()} says which; the message says
 * what was found and what was expected.
 */
public final class SocketActivationException extends SocketException {
  @Serial private static final long serialVersionUID = 1L;

  /** What is wrong. */
  public enum Reason {
    /** {@code LISTEN_PID} names another process: the sockets were passed to someone else. */
    WRONG_PID,
    /**
     * {@code LISTEN_PID}, {@code LISTEN_FDS} or {@code LISTEN_FDNAMES} is missing where needed, not
     * a plain decimal number, out of range, or the names do not match the count.
     */
    MALFORMED_ENVIRONMENT,
    /** The descriptor is not open, or is not a socket. */
    NOT_A_SOCKET,
    /** The descriptor is a socket of another family or type (TCP, UDP, datagram, ...). */
    WRONG_SOCKET_TYPE,
    /**
     * The descriptor is an {@code AF_UNIX} stream socket on which {@code listen(2)} was not called.
     */
    NOT_LISTENING,
    /** No socket was passed at that index or with that name. */
    NOT_FOUND,
    /** Several sockets carry the name asked for; ask by index instead. */
    AMBIGUOUS_NAME,
    /** The descriptor was already taken by an earlier call. */
    ALREADY_CLAIMED
  }

  private final Reason reason;

  /**
   * Creates the exception.
   *
   * @throws NullPointerException if {@code reason} is null
   */
  public SocketActivationException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** What is wrong. */
  public Reason reason() {
    return reason;
  }
}
