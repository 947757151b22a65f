package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Properties of the policy parser over random input. */
class PolicyRulesPropertiesTest {

  /** Any text either parses or fails with the documented exception, never anything else. */
  @Property(tries = 2000)
  void randomTextParsesOrFailsWithSyntaxException(@ForAll("noise") String text) {
    try {
      PolicyRules rules = PolicyRules.parse(text);
      assertEquals(rules, PolicyRules.parse(rules.toString()));
    } catch (PolicySyntaxException e) {
      assert e.line() >= 1 && e.column() >= 1 : e.getMessage();
    }
  }

  /** Near-valid lines (right words, random arguments) hit every error path without escaping. */
  @Property(tries = 3000)
  void nearValidTextParsesOrFailsWithSyntaxException(@ForAll("nearValid") String text) {
    try {
      PolicyRules rules = PolicyRules.parse(text);
      assertEquals(rules, PolicyRules.parse(rules.toString()));
    } catch (PolicySyntaxException e) {
      assert e.line() >= 1 && e.column() >= 1 : e.getMessage();
    }
  }

  /** Valid policies print to text that parses back to an equal policy, printing the same text. */
  @Property(tries = 1000)
  void printThenParseRoundTrips(@ForAll("validPolicy") String text) {
    PolicyRules rules = PolicyRules.parse(text);
    String printed = rules.toString();
    PolicyRules again = PolicyRules.parse(printed);
    assertEquals(rules, again);
    assertEquals(printed, again.toString());
  }

  @Provide
  Arbitrary<String> noise() {
    return Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(200),
        Arbitraries.strings().withChars(" \t\n\r#,/*?-$.0123456789abcdefxyz").ofMaxLength(200));
  }

  private static final List<String> WORDS =
      List.of(
          "allow",
          "deny",
          "default",
          "any",
          "same-user",
          "root",
          "uid",
          "gid",
          "user",
          "group",
          "exe",
          "exe-sha256",
          "cgroup",
          "label",
          "descendant-of",
          "#",
          "",
          ",");

  @Provide
  Arbitrary<String> nearValid() {
    Arbitrary<String> word = Arbitraries.of(WORDS);
    Arbitrary<String> junk =
        Arbitraries.strings()
            .withChars("0123456789,-/abc_.$#*?:AZ\u00e9\u2003\ud800")
            .ofMaxLength(12);
    Arbitrary<String> token = Arbitraries.oneOf(word, word, junk);
    Arbitrary<String> line = token.list().ofMaxSize(5).map(tokens -> String.join(" ", tokens));
    return line.list().ofMaxSize(8).map(lines -> String.join("\n", lines));
  }

  @Provide
  Arbitrary<String> validPolicy() {
    Arbitrary<String> ids =
        Arbitraries.longs()
            .between(0, 4294967294L)
            .list()
            .ofMinSize(1)
            .ofMaxSize(4)
            .map(list -> String.join(",", list.stream().map(String::valueOf).toList()));
    Arbitrary<String> name =
        Arbitraries.strings().withChars("abcxyz_").ofMinLength(1).ofMaxLength(8);
    Arbitrary<String> names =
        name.list().ofMinSize(1).ofMaxSize(3).map(list -> String.join(",", list));
    Arbitrary<String> path =
        Arbitraries.strings().withChars("abc/._-\u00e9").ofMaxLength(20).map(s -> "/" + s);
    Arbitrary<String> hex = Arbitraries.strings().withChars("0123456789abcdefABCDEF").ofLength(64);
    Arbitrary<String> glob =
        Arbitraries.strings().withChars("abc:_*?").ofMinLength(1).ofMaxLength(10);
    Arbitrary<String> condition =
        Arbitraries.oneOf(
            Arbitraries.of("any", "same-user", "root"),
            ids.map(s -> "uid " + s),
            ids.map(s -> "gid " + s),
            names.map(s -> "user " + s),
            names.map(s -> "group " + s),
            path.map(s -> "exe " + s),
            hex.map(s -> "exe-sha256 " + s),
            path.map(s -> "cgroup " + s),
            glob.map(s -> "label " + s),
            Arbitraries.integers().between(1, Integer.MAX_VALUE).map(p -> "descendant-of " + p));
    Arbitrary<String> rule =
        Combinators.combine(
                Arbitraries.of("allow", "deny"), condition, Arbitraries.of("", "  # why"))
            .as((verb, cond, comment) -> verb + " " + cond + comment);
    return Combinators.combine(
            rule.list().ofMaxSize(10), Arbitraries.of("", "default allow", "default deny"))
        .as((rules, dflt) -> String.join("\n", rules) + "\n" + dflt);
  }
}
