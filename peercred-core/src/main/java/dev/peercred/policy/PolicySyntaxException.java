package dev.peercred.policy;

import java.io.Serial;

/**
 * Thrown when policy text does not parse; the message starts with the line and column of the first
 * problem, both counted from 1, such as {@code line 3, column 7: unknown rule 'usr'}.
 */
public class PolicySyntaxException extends IllegalArgumentException {
  @Serial private static final long serialVersionUID = 1L;

  private final int line;
  private final int column;
  private final String problem;

  /** Creates the exception for a problem at {@code line} and {@code column} (from 1). */
  public PolicySyntaxException(String problem, int line, int column) {
    super("line " + line + ", column " + column + ": " + problem);
    this.problem = problem;
    this.line = line;
    this.column = column;
  }

  /** The line of the problem, from 1. */
  public int line() {
    return line;
  }

  /** The column of the problem, from 1, counted in characters. */
  public int column() {
    return column;
  }

  /** What is wrong, without the position. */
  public String problem() {
    return problem;
  }
}
