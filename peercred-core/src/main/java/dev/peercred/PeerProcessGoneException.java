package dev.peercred;

import java.io.IOException;
import java.io.Serial;

/** Thrown when a peer process has exited, so nothing more can be learned about it safely. */
public class PeerProcessGoneException extends IOException {
  @Serial private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the process. */
  public PeerProcessGoneException(String message) {
    super(message);
  }
}
