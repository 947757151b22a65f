package dev.peercred.cli;

import dev.peercred.cli.http.HttpRules;
import dev.peercred.policy.PolicySyntaxException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads the proxy's policy file: the text syntax of {@code docs/policies.md} (one rule per line,
 * first match wins, {@code default deny} unless the file says otherwise), whose rules may end with
 * an HTTP part when the proxy decides requests ({@link HttpRules}). Errors name the file, line and
 * column.
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
   * Reads and parses {@code file}; without {@code http}, a rule with an HTTP part is an error.
   *
   * @throws IOException if the file cannot be read
   * @throws PolicyFileException if it does not parse
   */
  static HttpRules load(Path file, boolean http) throws IOException, PolicyFileException {
    HttpRules rules;
    try {
      rules = HttpRules.parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (PolicySyntaxException e) {
      throw new PolicyFileException(
          file + ":" + e.line() + ":" + e.column() + ": " + e.problem(), e);
    }
    if (!http && rules.hasHttpParts()) {
      int line = rules.firstHttpLine();
      throw new PolicyFileException(
          file
              + ":"
              + line
              + ": a rule with an 'http' part decides HTTP requests: run the proxy with --http",
          null);
    }
    return rules;
  }
}
