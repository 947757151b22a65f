package dev.peercred.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Turns a user or group given on the command line (a name or a number) into its id. */
final class Ids {
  private Ids() {}

  /**
   * Returns the id for {@code text}: the number itself, or the id of the name in the system's
   * {@code database} ({@code passwd} or {@code group}), looked up with {@code getent(1)} so that
   * every NSS source (files, LDAP, systemd-userdb, ...) counts.
   *
   * @throws ParameterException if the text is neither a valid id nor a known name
   */
  static long resolve(CommandLine cli, String option, String database, String text) {
    if (text.matches("[0-9]{1,10}")) {
      long id = Long.parseLong(text);
      if (id <= 0xFFFF_FFFEL) {
        return id;
      }
    }
    String what = database.equals("passwd") ? "user" : "group";
    if (!text.matches("[A-Za-z_][A-Za-z0-9_.-]*\\$?")) {
      throw new ParameterException(
          cli, "invalid value for " + option + ": '" + text + "' is not a " + what + " name or id");
    }
    try {
      Process getent =
          new ProcessBuilder("getent", database, text)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      String line = new String(getent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (getent.waitFor(10, TimeUnit.SECONDS) && getent.exitValue() == 0) {
        String[] fields = line.strip().split(":");
        if (fields.length >= 3 && fields[2].matches("[0-9]{1,10}")) {
          return Long.parseLong(fields[2]);
        }
      }
    } catch (IOException e) {
      throw new ParameterException(
          cli, "cannot look up " + what + " '" + text + "' for " + option + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    throw new ParameterException(
        cli, "invalid value for " + option + ": no " + what + " named '" + text + "'");
  }
}
