package dev.peercred.cli;

import dev.peercred.policy.PolicyRules;
import dev.peercred.policy.PolicySyntaxException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Loads the proxy's policy file (the text syntax of {@link PolicyRules}, see {@code
 * docs/policies.md}: one rule per line, first match wins, {@code default deny} unless the file says
 * otherwise) into the decision function the proxy calls for every connection. The proxy itself only
 * sees a {@code Function<PeerIdentity, Decision>}, which fails closed: a policy that throws or
 * cannot check a rule gives a denial.
 */
final class AccessRules {
  private AccessRules() {}

  /** A policy file that does not parse, with the file, line and column in the message. */
  static final class PolicyFileException extends Exception {
    private static final long serialVersionUID = 1L;

    PolicyFileException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Reads and parses {@code file}.
   *
   * @throws IOException if the file cannot be read
   * @throws PolicyFileException if it does not parse
   */
  static PolicyRules load(Path file) throws IOException, PolicyFileException {
    try {
      return PolicyRules.read(file);
    } catch (PolicySyntaxException e) {
      throw new PolicyFileException(
          file + ":" + e.line() + ":" + e.column() + ": " + e.problem(), e);
    }
  }
}
