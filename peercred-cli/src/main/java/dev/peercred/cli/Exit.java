package dev.peercred.cli;

/** Exit codes of the peercred command, from {@code sysexits.h} where one fits. */
final class Exit {
  private Exit() {}

  static final int OK = 0;

  /** Any failure not listed below. */
  static final int FAILURE = 1;

  /** EX_USAGE: a bad option or argument. */
  static final int USAGE = 64;

  /** EX_DATAERR: the policy file is not valid. */
  static final int DATA = 65;

  /** EX_NOINPUT: the policy file is missing or unreadable. */
  static final int NO_INPUT = 66;

  /** EX_UNAVAILABLE: nothing answers at the socket. */
  static final int UNAVAILABLE = 69;

  /** EX_CANTCREAT: the listening socket or the audit file cannot be created. */
  static final int CANT_CREATE = 73;

  /** EX_PROTOCOL: the server's answer to the whoami probe is not a valid reply. */
  static final int PROTOCOL = 76;

  /** EX_NOPERM: not allowed to connect to the socket. */
  static final int NO_PERMISSION = 77;

  /** EX_CONFIG: the sockets passed by systemd (LISTEN_PID, LISTEN_FDS, ...) are wrong. */
  static final int CONFIG = 78;

  /** A failure to report on standard error with an exit code. */
  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    final int code;

    Failure(int code, String message) {
      super(message);
      this.code = code;
    }
  }
}
