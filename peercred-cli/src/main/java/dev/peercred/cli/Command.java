package dev.peercred.cli;

import java.io.PrintWriter;

/** A subcommand of {@code peercred}: what it accepts, and what it does with that. */
interface Command {
  /** Its name, options, parameters and help. */
  Syntax syntax();

  /**
   * Runs the command with parsed arguments and returns its exit code.
   *
   * @throws Syntax.UsageException for arguments that parse but make no sense (exit code 64)
   * @throws IllegalArgumentException likewise, reported with the command's name (exit code 64)
   * @throws Exception any other failure, reported with the command's name (exit code 1)
   */
  int run(Syntax.Arguments args, PrintWriter out, PrintWriter err) throws Exception;
}
