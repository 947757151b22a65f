package dev.peercred;

import java.io.Serial;
import java.net.SocketException;

/**
 * Thrown when the kernel gives no credentials for a socket's peer. A connection whose peer cannot
 * be identified is never handed out: the listener closes it and goes on accepting.
 */
public class PeerCredentialsException extends SocketException {
  @Serial private static final long serialVersionUID = 1L;

  /** Creates the exception with a message that names the call, the errno and the descriptor. */
  public PeerCredentialsException(String message) {
    super(message);
  }

  /** Creates the exception with a cause. */
  public PeerCredentialsException(String message, Throwable cause) {
    super(message, cause);
  }
}
