package dev.peercred.cli;

import java.util.Objects;

/**
 * What the proxy decided for one connection, with the reason written to the audit trail.
 *
 * @param allowed true to forward the connection to the backend
 * @param reason a short human-readable reason, such as {@code "line 3: allow uid 1000"}
 */
record Decision(boolean allowed, String reason) {
  Decision {
    Objects.requireNonNull(reason, "reason");
  }

  static Decision allow(String reason) {
    return new Decision(true, reason);
  }

  static Decision deny(String reason) {
    return new Decision(false, reason);
  }
}
