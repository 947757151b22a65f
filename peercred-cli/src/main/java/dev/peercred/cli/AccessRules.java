package dev.peercred.cli;

import dev.peercred.PeerIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Loads the proxy's policy file into the decision function the proxy calls for every connection.
 *
 * <p>The proxy only sees a {@code Function<PeerIdentity, Decision>}; this class is the one place
 * that knows the file's syntax. It reads one rule per line, first match wins, and a connection no
 * rule matches is denied:
 *
 * <pre>
 * # comment
 * allow uid 1000
 * deny gid 100
 * allow all
 * </pre>
 */
final class AccessRules {
  private AccessRules() {}

  /** A policy file that cannot be used, with the line that is wrong. */
  static final class PolicyFileException extends Exception {
    private static final long serialVersionUID = 1L;

    PolicyFileException(String message) {
      super(message);
    }
  }

  /**
   * Reads and parses {@code file}.
   *
   * @throws IOException if the file cannot be read
   * @throws PolicyFileException if a line is not a rule
   */
  static Function<PeerIdentity, Decision> load(Path file) throws IOException, PolicyFileException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    return parse(text, file.toString());
  }

  static Function<PeerIdentity, Decision> parse(String text, String source)
      throws PolicyFileException {
    record Rule(int line, boolean allow, String kind, long id, String text) {
      boolean matches(PeerIdentity peer) {
        return switch (kind) {
          case "all" -> true;
          case "uid" -> peer.credentials().isUidMapped() && peer.uid() == id;
          case "gid" -> peer.credentials().isGidMapped() && peer.gid() == id;
          default -> false;
        };
      }
    }
    List<Rule> rules = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash).strip();
      }
      if (line.isEmpty()) {
        continue;
      }
      String[] words = line.split("\\s+");
      String where = source + ":" + (i + 1) + ": ";
      if (!words[0].equals("allow") && !words[0].equals("deny")) {
        throw new PolicyFileException(where + "expected 'allow' or 'deny', found '" + words[0] + "'");
      }
      boolean allow = words[0].equals("allow");
      if (words.length == 2 && words[1].equals("all")) {
        rules.add(new Rule(i + 1, allow, "all", -1, line));
        continue;
      }
      if (words.length != 3 || !(words[1].equals("uid") || words[1].equals("gid"))) {
        throw new PolicyFileException(
            where + "expected '" + words[0] + " uid N', '" + words[0] + " gid N' or '"
                + words[0] + " all': " + line);
      }
      long id;
      try {
        id = Long.parseLong(words[2]);
      } catch (NumberFormatException e) {
        id = -1;
      }
      if (id < 0 || id > 0xFFFF_FFFFL) {
        throw new PolicyFileException(where + "not a " + words[1] + " (0..4294967295): " + words[2]);
      }
      rules.add(new Rule(i + 1, allow, words[1], id, line));
    }
    List<Rule> frozen = List.copyOf(rules);
    return peer -> {
      for (Rule rule : frozen) {
        if (rule.matches(peer)) {
          String reason = "line " + rule.line() + ": " + rule.text();
          return rule.allow() ? Decision.allow(reason) : Decision.deny(reason);
        }
      }
      return Decision.deny("no rule matched");
    };
  }
}
