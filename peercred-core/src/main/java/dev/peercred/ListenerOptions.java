package dev.peercred;

/**
 * How {@link UnixListener#bind(UnixSocketAddress, ListenerOptions)} binds. Immutable; start from
 * {@link #defaults()} and change what you need with the {@code with} methods.
 *
 * @param backlog the {@code listen(2)} backlog, 1 or more; the kernel caps it at {@code
 *     net.core.somaxconn}
 * @param replaceStaleSocket if a socket file exists at the path and no server answers there
 *     ({@code ECONNREFUSED}), remove it and bind; a file that is not a socket is never removed, and
 *     a live server's socket gives {@link AddressInUseException}
 * @param removeOnClose remove the socket file when the listener closes, if it is still the one this
 *     listener created
 */
public record ListenerOptions(int backlog, boolean replaceStaleSocket, boolean removeOnClose) {

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException if {@code backlog} is less than 1
   */
  public ListenerOptions {
    if (backlog < 1) {
      throw new IllegalArgumentException("backlog must be at least 1, was " + backlog);
    }
  }

  /** Backlog 4096, stale sockets replaced, the socket file removed on close. */
  public static ListenerOptions defaults() {
    return new ListenerOptions(4096, true, true);
  }

  /** These options with another backlog. */
  public ListenerOptions withBacklog(int backlog) {
    return new ListenerOptions(backlog, replaceStaleSocket, removeOnClose);
  }

  /** These options with stale-socket replacement on or off. */
  public ListenerOptions withReplaceStaleSocket(boolean replace) {
    return new ListenerOptions(backlog, replace, removeOnClose);
  }

  /** These options with removal of the socket file on close on or off. */
  public ListenerOptions withRemoveOnClose(boolean remove) {
    return new ListenerOptions(backlog, replaceStaleSocket, remove);
  }
}
