package dev.peercred;

import java.io.Serial;
import java.net.BindException;

/**
 * Thrown when a socket cannot be bound because a live server already listens at its address (the Go
 * package's {@code ErrAddrInUse}, {@code EADDRINUSE}).
 */
public class AddressInUseException extends BindException {
  @Serial private static final long serialVersionUID = 1L;

  private final transient UnixSocketAddress address;

  /** Creates the exception for {@code address}, with a message that names it. */
  public AddressInUseException(UnixSocketAddress address, String message) {
    super(message);
    this.address = address;
  }

  /** The address that is in use. */
  public UnixSocketAddress address() {
    return address;
  }
}
