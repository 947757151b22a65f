package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixListener;
import dev.peercred.policy.Decision.Outcome;
import dev.peercred.policy.PolicyRules.Effect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The text syntax: what parses, what each error says and where, and first-match evaluation. */
class PolicyRulesTest {
  @TempDir Path dir;

  private static PolicySyntaxException error(String text) {
    return assertThrows(PolicySyntaxException.class, () -> PolicyRules.parse(text));
  }

  private static void assertError(String text, int line, int column, String fragment) {
    PolicySyntaxException e = error(text);
    assertEquals(line, e.line(), e.getMessage());
    assertEquals(column, e.column(), e.getMessage());
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
    assertTrue(e.getMessage().startsWith("line " + line + ", column " + column + ": "));
  }

  @Test
  void parsesEveryRuleKindAndPrintsCanonicalText() {
    String hex = "AB".repeat(32);
    PolicyRules rules =
        PolicyRules.parse(
            """
            # a comment line
            deny uid 65534            # nobody, never
            allow uid 1000,001001
            allow gid 27
            allow user alice,bob
            allow group docker
            allow root
            allow same-user
            allow exe /usr//bin/foo
            allow exe-sha256 %s
            allow cgroup /system.slice/foo.service
            allow label system_u:system_r:*
            allow descendant-of 1234
            deny any
            default deny
            """
                .formatted(hex));
    assertEquals(13, rules.rules().size());
    assertEquals(Effect.DENY, rules.defaultEffect());
    assertEquals(2, rules.rules().get(0).line());
    assertEquals(
        """
        deny uid 65534
        allow uid 1000,1001
        allow gid 27
        allow user alice,bob
        allow group docker
        allow root
        allow same-user
        allow exe /usr/bin/foo
        allow exe-sha256 %s
        allow cgroup /system.slice/foo.service
        allow label system_u:system_r:*
        allow descendant-of 1234
        deny any
        default deny
        """
            .formatted(hex.toLowerCase()),
        rules.toString());
    assertEquals(rules, PolicyRules.parse(rules.toString()));
    assertEquals(new PolicyRules.Rule(Effect.ALLOW, Policy.uid(27), 0).condition(), Policy.uid(27));
    assertEquals(Policy.gid(27), rules.rules().get(2).condition());
  }

  @Test
  void emptyTextDeniesEveryoneByDefault() {
    assertEquals(Effect.DENY, PolicyRules.parse("").defaultEffect());
    assertEquals(Effect.DENY, PolicyRules.parse("\n\n  # nothing\n").defaultEffect());
    assertEquals(Effect.ALLOW, PolicyRules.parse("default allow\r\n").defaultEffect());
  }

  @Test
  void errorsNameLineAndColumn() {
    assertError("allow uid 1000\nallow usr alice\n", 2, 7, "unknown rule 'usr'");
    assertError("permit uid 1", 1, 1, "expected 'allow', 'deny' or 'default'");
    assertError("allow uid 10x0", 1, 11, "bad uid '10x0'");
    assertError("allow uid 1,2,x", 1, 15, "bad uid 'x'");
    assertError("allow uid 1,,2", 1, 13, "empty uid");
    assertError("allow uid 4294967295", 1, 11, "bad uid");
    assertError("allow gid -1", 1, 11, "bad gid '-1'");
    assertError("allow uid 99999999999", 1, 11, "bad uid");
    assertError("allow uid", 1, 10, "missing argument for 'uid'");
    assertError("  deny", 1, 7, "missing rule after 'deny'");
    assertError("allow uid 1 2", 1, 13, "unexpected '2'");
    assertError("allow root now", 1, 12, "takes no argument");
    assertError("allow user al:ice", 1, 12, "not a valid user name");
    assertError("allow group a,b c", 1, 17, "unexpected 'c'");
    assertError("allow group ok,1234", 1, 16, "all digits");
    assertError("allow exe bin/foo", 1, 11, "must be absolute");
    assertError("allow exe-sha256 abc", 1, 18, "64 hexadecimal digits");
    assertError("allow cgroup system.slice", 1, 14, "must start with '/'");
    assertError("allow descendant-of 0", 1, 21, "bad pid '0'");
    assertError("allow descendant-of 1,2", 1, 21, "one pid");
    assertError("default maybe", 1, 9, "expected 'allow' or 'deny'");
    assertError("default deny\ndefault allow", 2, 1, "a second 'default'");
    assertError("allow uid 1\u0007", 1, 12, "control character U+0007");
  }

  @Test
  void unknownNamesParseAndDenyWhenChecked() throws Exception {
    // Names are resolved at check time, not parse time: this parses.
    PolicyRules rules = PolicyRules.parse("allow user no-such-user-x\nallow uid 1001\n");
    Peers.assumeTools();
    try (UnixListener listener = Peers.listen(dir)) {
      try (var peer = Peers.accept(listener, 1001, 1001, List.of())) {
        // The unknown name cannot grant, a later rule still can.
        assertEquals(Outcome.ALLOW, rules.decide(peer.connection().peerIdentity()).outcome());
      }
      try (var peer = Peers.accept(listener, 1002, 1002, List.of())) {
        Decision d = rules.decide(peer.connection().peerIdentity());
        assertEquals(Outcome.ERROR, d.outcome(), d.reason());
        assertTrue(d.reason().contains("line 1 'allow user no-such-user-x' could not be checked"));
        assertTrue(d.reason().contains("unknown user no-such-user-x"), d.reason());
      }
      // In a deny rule an unknown name denies: it might have been the peer.
      PolicyRules denyUnknown = PolicyRules.parse("deny user no-such-user-x\nallow any\n");
      try (var peer = Peers.accept(listener, 1001, 1001, List.of())) {
        Decision d = denyUnknown.decide(peer.connection().peerIdentity());
        assertEquals(Outcome.ERROR, d.outcome(), d.reason());
      }
    }
  }

  @Test
  @Timeout(300)
  void firstMatchingRuleDecides() throws Exception {
    Peers.assumeTools();
    PolicyRules rules =
        PolicyRules.parse(
            """
            deny uid 1002
            allow uid 1001,1002
            allow uid 1003
            """);
    try (UnixListener listener = Peers.listen(dir)) {
      try (var peer = Peers.accept(listener, 1001, 1001, List.of())) {
        Decision d = rules.decide(peer.connection().peerIdentity());
        assertEquals(Outcome.ALLOW, d.outcome());
        assertTrue(d.reason().startsWith("line 2 'allow uid 1001,1002' matched"), d.reason());
      }
      try (var peer = Peers.accept(listener, 1002, 1002, List.of())) {
        Decision d = rules.decide(peer.connection().peerIdentity());
        assertEquals(Outcome.DENY, d.outcome());
        assertTrue(d.reason().startsWith("line 1 'deny uid 1002' matched"), d.reason());
      }
      try (var peer = Peers.accept(listener, 1003, 3003, List.of())) {
        assertEquals(Outcome.ALLOW, rules.decide(peer.connection().peerIdentity()).outcome());
      }
      try (var peer = Peers.accept(listener, 1004, 1004, List.of())) {
        Decision d = rules.decide(peer.connection().peerIdentity());
        assertEquals(Outcome.DENY, d.outcome());
        assertEquals("no rule matched; default deny", d.reason());
      }
      PolicyRules denyList = PolicyRules.parse("deny uid 1004\ndefault allow\n");
      try (var peer = Peers.accept(listener, 1004, 1004, List.of())) {
        assertEquals(Outcome.DENY, denyList.decide(peer.connection().peerIdentity()).outcome());
      }
      try (var peer = Peers.accept(listener, 1005, 1005, List.of())) {
        assertEquals(Outcome.ALLOW, denyList.decide(peer.connection().peerIdentity()).outcome());
      }
    }
  }

  @Test
  void readsPolicyFiles() throws Exception {
    Path file = dir.resolve("policy");
    Files.writeString(file, "allow same-user\n");
    assertEquals(
        List.of(new PolicyRules.Rule(Effect.ALLOW, Policy.sameUser(), 1)),
        PolicyRules.read(file).rules());
    assertThrows(java.nio.file.NoSuchFileException.class, () -> PolicyRules.read(dir.resolve("x")));
  }
}
