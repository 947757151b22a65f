package dev.peercred.policy;

import dev.peercred.PeerIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A policy written as text: one rule per line, checked from the top, the first rule that matches
 * decides; when none matches, the default decides ({@code default deny} unless the text says {@code
 * default allow}).
 *
 * {@snippet file = dev/peercred/examples/snippets/backupd.rules}
 *
 * <p>Each rule is {@code allow} or {@code deny}, a kind and at most one argument (lists are
 * comma-separated without spaces): {@code any}, {@code same-user}, {@code root}, {@code uid
 * 1000,1001}, {@code gid 27}, {@code user alice,bob}, {@code group docker}, {@code exe
 * /usr/bin/foo}, {@code exe-sha256 <64 hex digits>}, {@code cgroup /system.slice/foo.service},
 * {@code label <glob>}, {@code descendant-of <pid>}; each means what the {@link Policy} factory of
 * the same name means. {@code #} starts a comment at the start of a line or after whitespace. Blank
 * lines are ignored. {@code docs/policies.md} is the full reference.
 *
 * <p><b>When a rule cannot be checked</b> (a lookup fails, a value is unknown, the peer process is
 * gone), evaluation stays fail-closed without being needlessly strict: an {@code allow} rule that
 * cannot be checked is skipped (it can only have granted), and if nothing later allows, the result
 * is an {@link Decision.Outcome#ERROR} denial naming it; a {@code deny} rule that cannot be checked
 * ends evaluation with an {@code ERROR} denial, because it might have matched.
 *
 * <p><b>Names</b> are checked for syntax when parsed and resolved each time a rule is checked, so a
 * policy file may name a user or group created later; a name that still resolves to nothing when
 * checked makes its rule an error (above), never a match.
 *
 * <p>Instances are immutable and thread-safe; {@link #toString()} prints canonical text that parses
 * back to an equal instance.
 */
public final class PolicyRules implements Policy {

  /** What a matching rule decides. */
  public enum Effect {
    /** The peer is allowed. */
    ALLOW,
    /** The peer is denied. */
    DENY;

    String keyword() {
      return this == ALLOW ? "allow" : "deny";
    }
  }

  /**
   * One rule: its effect, the condition it tests and the line it came from.
   *
   * @param effect what the rule decides when its condition matches
   * @param condition the condition, a built-in {@link Policy}; its {@code toString()} is the rule's
   *     text after the verb
   * @param line the line the rule was parsed from, from 1 (0 when built in code)
   */
  public record Rule(Effect effect, Policy condition, int line) {
    /**
     * Checks the values.
     *
     * @throws NullPointerException if an argument is null
     */
    public Rule {
      Objects.requireNonNull(effect, "effect");
      Objects.requireNonNull(condition, "condition");
    }

    /** Equal when effect and condition are equal; the line does not count. */
    @Override
    public boolean equals(Object o) {
      return o instanceof Rule r && r.effect == effect && r.condition.equals(condition);
    }

    @Override
    public int hashCode() {
      return effect.hashCode() * 31 + condition.hashCode();
    }

    /** The rule as text: {@code allow uid 1000,1001}. */
    @Override
    public String toString() {
      return effect.keyword() + " " + condition;
    }
  }

  private final List<Rule> rules;
  private final Effect defaultEffect;

  /** How reasons name each rule, by its index: {@code line 3 'allow uid 0'}. */
  private final String[] names;

  private PolicyRules(List<Rule> rules, Effect defaultEffect) {
    this.rules = List.copyOf(rules);
    this.defaultEffect = defaultEffect;
    this.names = new String[this.rules.size()];
    for (int i = 0; i < names.length; i++) {
      Rule rule = this.rules.get(i);
      names[i] = (rule.line() > 0 ? "line " + rule.line() + " " : "") + "'" + rule + "'";
    }
  }

  /**
   * Parses policy text.
   *
   * @throws PolicySyntaxException naming the line and column of the first problem
   * @throws NullPointerException if {@code text} is null
   */
  public static PolicyRules parse(String text) {
    Objects.requireNonNull(text, "text");
    return new Parser(text).parse();
  }

  /**
   * Reads and parses a policy file (UTF-8).
   *
   * @throws IOException if the file cannot be read
   * @throws PolicySyntaxException naming the line and column of the first problem; its message does
   *     not name the file
   */
  public static PolicyRules read(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    return parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  /** The rules, in order. */
  public List<Rule> rules() {
    return rules;
  }

  /** What is decided when no rule matches. */
  public Effect defaultEffect() {
    return defaultEffect;
  }

  @Override
  public Decision evaluate(PeerIdentity peer) {
    return evaluate(rule -> rule.condition().decide(peer)).decision();
  }

  /**
   * The decision of a first-match evaluation and the rule that made it.
   *
   * @param decision what was decided
   * @param rule the rule that matched; empty when the default decided
   */
  public record Verdict(Decision decision, Optional<Rule> rule) {
    /**
     * Checks the values.
     *
     * @throws NullPointerException if an argument is null
     */
    public Verdict {
      Objects.requireNonNull(decision, "decision");
      Objects.requireNonNull(rule, "rule");
    }
  }

  /**
   * Evaluates the rules as {@link #evaluate(PeerIdentity)} does, but asks {@code conditions}
   * whether each rule matches instead of checking its condition on a peer: for a server that
   * decides many requests of one connection (check each condition once per peer, then combine the
   * answers with what each request asks), or that adds facts of its own to the rules. A rule for
   * which {@code conditions} answers {@code ERROR} is treated like one whose check failed.
   *
   * @param conditions whether a rule matches: {@code ALLOW} for a match, {@code DENY} for none,
   *     {@code ERROR} when it cannot be told; a null answer or a throw counts as {@code ERROR}
   * @return the decision and the rule that made it
   */
  public Verdict evaluate(Function<Rule, Decision> conditions) {
    Objects.requireNonNull(conditions, "conditions");
    List<String> unchecked = null; // most evaluations have none
    for (int i = 0; i < names.length; i++) {
      Rule rule = rules.get(i);
      Decision d;
      try {
        d = conditions.apply(rule);
        if (d == null) {
          d = Decision.error("no answer");
        }
      } catch (RuntimeException e) {
        d = Decision.error("failed: " + e);
      }
      String where = names[i];
      switch (d.outcome()) {
        case ALLOW -> {
          String reason = where + " matched: " + d.reason();
          return new Verdict(
              rule.effect() == Effect.ALLOW ? Decision.allow(reason) : Decision.deny(reason),
              Optional.of(rule));
        }
        case DENY -> {}
        case ERROR -> {
          if (rule.effect() == Effect.DENY) {
            return new Verdict(
                Decision.error(where + " could not be checked: " + d.reason()), Optional.of(rule));
          }
          if (unchecked == null) {
            unchecked = new ArrayList<>();
          }
          unchecked.add(where + " could not be checked: " + d.reason());
        }
      }
    }
    Decision fallback;
    if (defaultEffect == Effect.ALLOW) {
      fallback = Decision.allow("no rule matched; default allow");
    } else if (unchecked != null) {
      fallback = Decision.error("no rule matched; default deny; " + String.join("; ", unchecked));
    } else {
      fallback = Decision.deny("no rule matched; default deny");
    }
    return new Verdict(fallback, Optional.empty());
  }

  /** The canonical text: one rule per line, then the {@code default} line. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    for (Rule rule : rules) {
      text.append(rule).append('\n');
    }
    return text.append("default ").append(defaultEffect.keyword()).append('\n').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PolicyRules p && p.rules.equals(rules) && p.defaultEffect == defaultEffect;
  }

  @Override
  public int hashCode() {
    return rules.hashCode() * 31 + defaultEffect.hashCode();
  }

  /** A line-by-line parser keeping line and column for errors. */
  private static final class Parser {
    private final String text;
    private final List<Rule> rules = new ArrayList<>();
    private Effect defaultEffect;
    private int defaultLine;

    Parser(String text) {
      this.text = text;
    }

    /** A word of a line and the column (from 1) where it starts. */
    private record Token(String text, int column) {}

    PolicyRules parse() {
      int lineNumber = 0;
      int start = 0;
      while (start <= text.length()) {
        int end = text.indexOf('\n', start);
        if (end < 0) {
          end = text.length();
        }
        lineNumber++;
        String line = text.substring(start, end);
        if (line.endsWith("\r")) {
          line = line.substring(0, line.length() - 1);
        }
        parseLine(line, lineNumber);
        start = end + 1;
      }
      return new PolicyRules(rules, defaultEffect == null ? Effect.DENY : defaultEffect);
    }

    private static List<Token> tokens(String line, int lineNumber) {
      List<Token> tokens = new ArrayList<>();
      int i = 0;
      while (i < line.length()) {
        char c = line.charAt(i);
        if (c == ' ' || c == '\t') {
          i++;
          continue;
        }
        if (c == '#') {
          break; // a comment: at the start of the line or after whitespace
        }
        int begin = i;
        while (i < line.length() && line.charAt(i) != ' ' && line.charAt(i) != '\t') {
          char d = line.charAt(i);
          if (d < ' ' || d == 0x7F) {
            throw new PolicySyntaxException(
                String.format("control character U+%04X", (int) d), lineNumber, i + 1);
          }
          i++;
        }
        tokens.add(new Token(line.substring(begin, i), begin + 1));
      }
      return tokens;
    }

    private void parseLine(String line, int lineNumber) {
      List<Token> tokens = tokens(line, lineNumber);
      if (tokens.isEmpty()) {
        return;
      }
      Token verb = tokens.get(0);
      switch (verb.text()) {
        case "allow", "deny" -> {}
        case "default" -> {
          parseDefault(tokens, line, lineNumber);
          return;
        }
        default ->
            throw new PolicySyntaxException(
                "expected 'allow', 'deny' or 'default', found '" + verb.text() + "'",
                lineNumber,
                verb.column());
      }
      Effect effect = verb.text().equals("allow") ? Effect.ALLOW : Effect.DENY;
      if (tokens.size() < 2) {
        throw new PolicySyntaxException(
            "missing rule after '" + verb.text() + "' (one of " + KINDS + ")",
            lineNumber,
            line.length() + 1);
      }
      Token kind = tokens.get(1);
      boolean noArgument =
          switch (kind.text()) {
            case "any", "same-user", "root" -> true;
            case "uid",
                "gid",
                "user",
                "group",
                "exe",
                "exe-sha256",
                "cgroup",
                "label",
                "descendant-of" ->
                false;
            default ->
                throw new PolicySyntaxException(
                    "unknown rule '" + kind.text() + "' (one of " + KINDS + ")",
                    lineNumber,
                    kind.column());
          };
      int expected = noArgument ? 2 : 3;
      if (tokens.size() < expected) {
        throw new PolicySyntaxException(
            "missing argument for '" + kind.text() + "'", lineNumber, line.length() + 1);
      }
      if (tokens.size() > expected) {
        Token extra = tokens.get(expected);
        throw new PolicySyntaxException(
            "unexpected '"
                + extra.text()
                + "' after '"
                + kind.text()
                + "'"
                + (noArgument
                    ? " (it takes no argument)"
                    : " (one argument; separate list items with commas, no spaces)"),
            lineNumber,
            extra.column());
      }
      Policy condition =
          noArgument ? simple(kind.text()) : withArgument(kind.text(), tokens.get(2), lineNumber);
      rules.add(new Rule(effect, condition, lineNumber));
    }

    private void parseDefault(List<Token> tokens, String line, int lineNumber) {
      if (tokens.size() < 2) {
        throw new PolicySyntaxException(
            "missing 'allow' or 'deny' after 'default'", lineNumber, line.length() + 1);
      }
      Token value = tokens.get(1);
      Effect effect =
          switch (value.text()) {
            case "allow" -> Effect.ALLOW;
            case "deny" -> Effect.DENY;
            default ->
                throw new PolicySyntaxException(
                    "expected 'allow' or 'deny' after 'default', found '" + value.text() + "'",
                    lineNumber,
                    value.column());
          };
      if (tokens.size() > 2) {
        throw new PolicySyntaxException(
            "unexpected '" + tokens.get(2).text() + "' after 'default " + value.text() + "'",
            lineNumber,
            tokens.get(2).column());
      }
      if (defaultEffect != null) {
        throw new PolicySyntaxException(
            "a second 'default' line (the first is line " + defaultLine + ")",
            lineNumber,
            tokens.get(0).column());
      }
      defaultEffect = effect;
      defaultLine = lineNumber;
    }

    private static Policy simple(String kind) {
      return switch (kind) {
        case "any" -> Policy.anyone();
        case "same-user" -> Policy.sameUser();
        default -> Policy.root();
      };
    }

    private static Policy withArgument(String kind, Token argument, int lineNumber) {
      String value = argument.text();
      try {
        return switch (kind) {
          case "uid" -> Policy.uid(numbers("uid", argument, lineNumber, Rules.MAX_ID));
          case "gid" -> Policy.gid(numbers("gid", argument, lineNumber, Rules.MAX_ID));
          case "user" -> Policy.user(names("user", argument, lineNumber));
          case "group" -> Policy.group(names("group", argument, lineNumber));
          case "exe" -> Policy.executable(Path.of(value));
          case "exe-sha256" -> Policy.executableSha256(value);
          case "cgroup" -> Policy.cgroup(value);
          case "label" -> Policy.securityLabel(value);
          default ->
              Policy.descendantOf(numbers("pid", argument, lineNumber, Integer.MAX_VALUE)[0]);
        };
      } catch (InvalidPathException e) {
        throw new PolicySyntaxException(
            "not a valid path: '" + value + "' (" + e.getReason() + ")",
            lineNumber,
            argument.column());
      } catch (PolicySyntaxException e) {
        throw e;
      } catch (IllegalArgumentException e) {
        throw new PolicySyntaxException(e.getMessage(), lineNumber, argument.column());
      }
    }

    private static long[] numbers(String what, Token argument, int lineNumber, long max) {
      String value = argument.text();
      List<String> items = split(value);
      if (what.equals("pid") && items.size() > 1) {
        throw new PolicySyntaxException(
            "descendant-of takes one pid: '" + value + "'", lineNumber, argument.column());
      }
      long[] result = new long[items.size()];
      int offset = 0;
      for (int i = 0; i < items.size(); i++) {
        String item = items.get(i);
        int column = argument.column() + offset;
        if (item.isEmpty()) {
          throw new PolicySyntaxException("empty " + what + " in list", lineNumber, column);
        }
        long n = -1;
        if (item.length() <= 10 && item.chars().allMatch(c -> c >= '0' && c <= '9')) {
          n = Long.parseLong(item);
        }
        if (n < 0 || n > max || (what.equals("pid") && n == 0)) {
          throw new PolicySyntaxException(
              "bad "
                  + what
                  + " '"
                  + item
                  + "' (a number from "
                  + (what.equals("pid") ? 1 : 0)
                  + " to "
                  + max
                  + ")",
              lineNumber,
              column);
        }
        result[i] = n;
        offset += item.length() + 1;
      }
      return result;
    }

    private static String[] names(String what, Token argument, int lineNumber) {
      List<String> items = split(argument.text());
      int offset = 0;
      for (String item : items) {
        String problem = Rules.nameProblem(what, item);
        if (problem != null) {
          throw new PolicySyntaxException(problem, lineNumber, argument.column() + offset);
        }
        offset += item.length() + 1;
      }
      return items.toArray(String[]::new);
    }

    private static List<String> split(String value) {
      List<String> items = new ArrayList<>();
      int start = 0;
      while (true) {
        int comma = value.indexOf(',', start);
        if (comma < 0) {
          items.add(value.substring(start));
          return items;
        }
        items.add(value.substring(start, comma));
        start = comma + 1;
      }
    }
  }

  private static final String KINDS =
      "any, same-user, root, uid, gid, user, group, exe, exe-sha256, cgroup, label, descendant-of";
}
