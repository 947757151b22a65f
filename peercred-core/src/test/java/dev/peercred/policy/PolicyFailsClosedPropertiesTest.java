package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.peercred.PeerIdentity;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.UnixSocketAddress;
import java.io.IOException;
import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random policies evaluated against a peer whose process details cannot be read (its connection is
 * closed, so groups, executable, cgroup, label and parents all fail): evaluation never throws, and
 * a rule that needs an unreadable detail never lets the peer in.
 */
class PolicyFailsClosedPropertiesTest {
  private static UnixListener listener;
  private static PeerIdentity unreadable;

  @BeforeContainer
  static void closedPeer() throws IOException {
    UnixSocketAddress address =
        UnixSocketAddress.ofAbstract("peercred-fail-closed-" + ProcessHandle.current().pid());
    listener = UnixListener.bind(address, dev.peercred.ListenerOptions.defaults());
    UnixConnection client = UnixConnection.connect(address, Duration.ZERO);
    UnixConnection server = listener.accept();
    server.close();
    client.close();
    unreadable = server.peerIdentity();
  }

  @AfterContainer
  static void closeListener() {
    listener.close();
  }

  /** The fixture is meaningful: the same kind of rule lets a live peer in. */
  @Example
  void anExecutableRuleAllowsALivePeerButNotTheUnreadableOne() throws IOException {
    String exe = ProcessHandle.current().info().command().orElseThrow();
    PolicyRules rules = PolicyRules.parse("allow exe " + exe + "\ndefault deny");
    UnixSocketAddress address =
        UnixSocketAddress.ofAbstract("peercred-fail-closed-live-" + ProcessHandle.current().pid());
    try (UnixListener live = UnixListener.bind(address, dev.peercred.ListenerOptions.defaults());
        UnixConnection client = UnixConnection.connect(address, Duration.ZERO);
        UnixConnection server = live.accept()) {
      Decision decision = rules.evaluate(server.peerIdentity());
      org.junit.jupiter.api.Assertions.assertTrue(decision.allowed(), decision.toString());
    }
    assertFalse(rules.evaluate(unreadable).allowed());
  }

  @Property(tries = 500)
  void rulesNeedingUnreadableDetailsNeverAllow(@ForAll("detailPolicies") String text) {
    PolicyRules rules = PolicyRules.parse(text);
    Decision decision = rules.evaluate(unreadable);
    assertNotNull(decision);
    assertFalse(decision.allowed(), text + "\n-> " + decision);
  }

  @Property(tries = 500)
  void evaluationNeverThrows(@ForAll("anyPolicy") String text) {
    Decision decision = PolicyRules.parse(text).evaluate(unreadable);
    assertNotNull(decision.outcome());
    assertNotNull(decision.reason());
  }

  private static Arbitrary<String> detailCondition() {
    Arbitrary<String> path =
        Arbitraries.strings().withChars("abc/._-").ofMaxLength(16).map(s -> "/" + s);
    return Arbitraries.oneOf(
        path.map(p -> "exe " + p),
        Arbitraries.strings()
            .withChars("0123456789abcdef")
            .ofLength(64)
            .map(h -> "exe-sha256 " + h),
        path.map(p -> "cgroup " + p),
        Arbitraries.strings()
            .withChars("abc:_*?")
            .ofMinLength(1)
            .ofMaxLength(8)
            .map(l -> "label " + l),
        Arbitraries.integers().between(1, 1 << 22).map(p -> "descendant-of " + p),
        Arbitraries.strings()
            .withChars("abcxyz_")
            .ofMinLength(1)
            .ofMaxLength(8)
            .map(g -> "group " + g));
  }

  private static Arbitrary<String> anyCondition() {
    return Arbitraries.oneOf(
        detailCondition(),
        Arbitraries.of("any", "same-user", "root"),
        Arbitraries.longs().between(0, 4294967294L).map(u -> "uid " + u),
        Arbitraries.longs().between(0, 4294967294L).map(g -> "gid " + g),
        Arbitraries.of("root", "nobody", "nosuchuser").map(u -> "user " + u));
  }

  /** Allow rules only on unreadable details, deny rules on anything, default deny. */
  @Provide
  Arbitrary<String> detailPolicies() {
    Arbitrary<String> allow = detailCondition().map(c -> "allow " + c);
    Arbitrary<String> deny = anyCondition().map(c -> "deny " + c);
    return Combinators.combine(
            Arbitraries.oneOf(allow, allow, deny).list().ofMinSize(1).ofMaxSize(8),
            Arbitraries.of("", "default deny"))
        .as((rules, dflt) -> String.join("\n", rules) + "\n" + dflt);
  }

  @Provide
  Arbitrary<String> anyPolicy() {
    Arbitrary<String> rule =
        Combinators.combine(Arbitraries.of("allow", "deny"), anyCondition())
            .as((effect, condition) -> effect + " " + condition);
    return Combinators.combine(
            rule.list().ofMaxSize(8), Arbitraries.of("", "default deny", "default allow"))
        .as((rules, dflt) -> String.join("\n", rules) + "\n" + dflt);
  }
}
