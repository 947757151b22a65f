package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerIdentity;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.policy.Decision.Outcome;
import dev.peercred.testing.ChildProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Each built-in policy against real peers running as other users, allowing and denying. */
@Timeout(300)
class BuiltinPoliciesTest {
  @TempDir Path dir;

  @BeforeAll
  static void tools() {
    Peers.assumeTools();
  }

  private static Outcome outcome(Policy policy, UnixConnection connection) {
    return policy.decide(connection.peerIdentity()).outcome();
  }

  @Test
  void uidAllowsListedUidsAndDeniesOthers() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of())) {
      assertEquals(Outcome.ALLOW, outcome(Policy.uid(1001), peer.connection()));
      assertEquals(Outcome.ALLOW, outcome(Policy.uid(5, 1001), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.uid(1002), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.uid(0), peer.connection()));
    }
  }

  @Test
  void rootAndSameUserAllowOnlyTheServersUser() throws Exception {
    try (UnixListener listener = Peers.listen(dir)) {
      try (var peer = Peers.accept(listener, 1001, 1001, List.of())) {
        assertEquals(Outcome.DENY, outcome(Policy.root(), peer.connection()));
        assertEquals(Outcome.DENY, outcome(Policy.sameUser(), peer.connection()));
      }
      try (var peer = Peers.accept(listener, 0, 0, List.of())) { // the tests run as root
        assertEquals(Outcome.ALLOW, outcome(Policy.root(), peer.connection()));
        assertEquals(Outcome.ALLOW, outcome(Policy.sameUser(), peer.connection()));
      }
    }
  }

  @Test
  void gidMatchesThePrimaryGroup() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 2001, List.of())) {
      assertEquals(Outcome.ALLOW, outcome(Policy.gid(2001), peer.connection()));
      assertEquals(Outcome.ALLOW, outcome(Policy.gid(7, 2001), peer.connection()));
    }
  }

  @Test
  void gidMatchesSupplementaryGroupsAndDeniesOthers() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 2001, List.of(27L, 100L))) {
      Peers.assumeIdentityDetails(peer.connection());
      assertEquals(Outcome.ALLOW, outcome(Policy.gid(27), peer.connection()));
      assertEquals(Outcome.ALLOW, outcome(Policy.gid(100), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.gid(28), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.gid(1001), peer.connection()));
    }
  }

  @Test
  void aGroupRuleMatchesThePrimaryGidEvenWhenTheGroupsCannotBeRead() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of(2001L))) {
      PeerIdentity identity = peer.connection().peerIdentity();
      identity.close(); // before the groups were read: reading them fails from now on
      assertTrue(identity.hasGroup(1001));
      assertEquals(Outcome.ALLOW, Policy.gid(2001, 1001).decide(identity).outcome());
      Decision unknown = Policy.gid(2001).decide(identity);
      assertEquals(Outcome.ERROR, unknown.outcome(), unknown.toString());
      assertTrue(unknown.reason().contains("groups unknown"), unknown.reason());
    }
  }

  @Test
  void userNamesAreResolvedWhenChecked() throws Exception {
    // uid 1 is "daemon" and uid 2 "bin" in Debian's base passwd.
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1, 1, List.of())) {
      assertEquals(Outcome.ALLOW, outcome(Policy.user("daemon"), peer.connection()));
      assertEquals(Outcome.ALLOW, outcome(Policy.user("bin", "daemon"), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.user("bin"), peer.connection()));
      Decision unknown = Policy.user("no-such-user-x").decide(peer.connection().peerIdentity());
      assertEquals(Outcome.ERROR, unknown.outcome());
      assertTrue(unknown.reason().contains("unknown user no-such-user-x"), unknown.reason());
      // A known name that matches wins over an unknown one.
      assertEquals(
          Outcome.ALLOW, outcome(Policy.user("no-such-user-x", "daemon"), peer.connection()));
    }
  }

  @Test
  void groupNamesMatchThePrimaryGroup() throws Exception {
    // gid 4 is "adm", gid 1 "daemon".
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 4, List.of())) {
      assertEquals(Outcome.ALLOW, outcome(Policy.group("adm"), peer.connection()));
      assertEquals(Outcome.ERROR, outcome(Policy.group("no-such-group-x"), peer.connection()));
    }
  }

  @Test
  void groupNamesMatchSupplementaryGroupsAndDenyOthers() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 2001, List.of(4L))) {
      Peers.assumeIdentityDetails(peer.connection());
      assertEquals(Outcome.ALLOW, outcome(Policy.group("adm"), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.group("daemon"), peer.connection()));
    }
  }

  @Test
  void executableIsComparedCanonically() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of())) {
      Peers.assumeIdentityDetails(peer.connection());
      // /usr/bin/python3 is a symbolic link to python3.x: the rule path is made canonical.
      assertEquals(Outcome.ALLOW, outcome(Policy.executable(Peers.PYTHON), peer.connection()));
      assertEquals(
          Outcome.ALLOW, outcome(Policy.executable(Peers.PYTHON.toRealPath()), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.executable(Peers.SETPRIV), peer.connection()));
      assertEquals(
          Outcome.DENY, outcome(Policy.executable(Path.of("/no/such/exe")), peer.connection()));
    }
  }

  @Test
  void executableSha256HashesTheFileThePeerRuns() throws Exception {
    String python = sha256(Peers.PYTHON.toRealPath());
    String setpriv = sha256(Peers.SETPRIV);
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of())) {
      Peers.assumeIdentityDetails(peer.connection());
      assertEquals(Outcome.ALLOW, outcome(Policy.executableSha256(python), peer.connection()));
      assertEquals(
          Outcome.ALLOW, outcome(Policy.executableSha256(python.toUpperCase()), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.executableSha256(setpriv), peer.connection()));
    }
  }

  @Test
  void executableSha256SeesAChangedFileOnceItRunsAgain() throws Exception {
    Path copy = dir.resolve("python-copy");
    Files.copy(Peers.PYTHON.toRealPath(), copy);
    Files.setPosixFilePermissions(
        copy, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    String before = sha256(copy);
    try (UnixListener listener = Peers.listen(dir)) {
      Path socket = listener.localAddress().path().orElseThrow();
      try (ChildProcess first = Peers.client(copy, socket, 1001, 1001, List.of(), "")) {
        try (UnixConnection connection = listener.accept()) {
          assertEquals(Outcome.ALLOW, outcome(Policy.executableSha256(before), connection));
        }
        Peers.output(first);
      }
      Files.write(copy, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND); // ELF ignores it
      String after = sha256(copy);
      try (ChildProcess second = Peers.client(copy, socket, 1001, 1001, List.of(), "")) {
        try (UnixConnection connection = listener.accept()) {
          assertEquals(Outcome.DENY, outcome(Policy.executableSha256(before), connection));
          assertEquals(Outcome.ALLOW, outcome(Policy.executableSha256(after), connection));
        }
        Peers.output(second);
      }
    }
  }

  private static String sha256(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  @Test
  void cgroupMatchesByPathSegments() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of())) {
      Peers.assumeIdentityDetails(peer.connection());
      var cgroup = peer.connection().peerIdentity().process().orElseThrow().cgroup();
      org.junit.jupiter.api.Assumptions.assumeTrue(
          cgroup.isPresent(), "no cgroup v2 path for the peer on this machine");
      String path = cgroup.get();
      assertEquals(Outcome.ALLOW, outcome(Policy.cgroup("/"), peer.connection()));
      assertEquals(Outcome.ALLOW, outcome(Policy.cgroup(path), peer.connection()));
      assertEquals(
          Outcome.DENY,
          outcome(Policy.cgroup(path.equals("/") ? "/x.slice" : path + "x"), peer.connection()));
    }
  }

  @Test
  void labelPatternNeverMatchesAPeerWithoutALabel() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of())) {
      Peers.assumeIdentityDetails(peer.connection());
      var label = peer.connection().peerIdentity().securityLabel();
      if (label.isEmpty()) {
        assertEquals(Outcome.DENY, outcome(Policy.securityLabel("*"), peer.connection()));
      } else {
        assertEquals(Outcome.ALLOW, outcome(Policy.securityLabel("*"), peer.connection()));
        assertEquals(Outcome.ALLOW, outcome(Policy.securityLabel(label.get()), peer.connection()));
        assertEquals(
            Outcome.DENY, outcome(Policy.securityLabel(label.get() + "x"), peer.connection()));
      }
    }
  }

  @Test
  void globMatchesStarsAndQuestionMarks() {
    assertTrue(Rules.globMatches("system_u:system_r:*", "system_u:system_r:sshd_t:s0"));
    assertTrue(Rules.globMatches("a?c", "abc"));
    assertTrue(Rules.globMatches("*", ""));
    assertTrue(Rules.globMatches("*b*d", "abcbd"));
    assertFalse(Rules.globMatches("a?c", "ac"));
    assertFalse(Rules.globMatches("unconfined", "unconfined_t"));
  }

  @Test
  void descendantOfWalksTheParentChain() throws Exception {
    try (ChildProcess unrelated = ChildProcess.start("sleep", "600");
        UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of())) {
      Peers.assumeIdentityDetails(peer.connection());
      long self = ProcessHandle.current().pid();
      assertEquals(Outcome.ALLOW, outcome(Policy.descendantOf(self), peer.connection()));
      assertEquals(Outcome.DENY, outcome(Policy.descendantOf(unrelated.pid()), peer.connection()));
      long peerPid = peer.client().pid();
      assertEquals(Outcome.DENY, outcome(Policy.descendantOf(peerPid), peer.connection()));
    }
  }

  @Test
  void processRulesDenyAPeerThatHasExited() throws Exception {
    try (UnixListener listener = Peers.listen(dir);
        ChildProcess client =
            Peers.client(listener.localAddress().path().orElseThrow(), 1001, 1001, List.of(), "")) {
      try (UnixConnection connection = listener.accept()) {
        connection.close(); // the client reads end of stream and exits
        client.assertExit(0);
        PeerIdentity peer = connection.peerIdentity();
        for (Policy rule :
            List.of(
                Policy.executable(Peers.PYTHON),
                Policy.executableSha256(sha256(Peers.PYTHON.toRealPath())),
                Policy.cgroup("/"),
                Policy.descendantOf(ProcessHandle.current().pid()))) {
          Decision d = rule.decide(peer);
          assertEquals(Outcome.ERROR, d.outcome(), rule + ": " + d);
          assertFalse(Policy.not(rule).decide(peer).allowed(), "not(" + rule + ")");
        }
      }
    }
  }

  @Test
  void combinatorsUseThreeValuedLogic() throws Exception {
    Policy allow = peer -> Decision.allow("yes");
    Policy deny = peer -> Decision.deny("no");
    Policy error =
        peer -> {
          throw new IllegalStateException("boom");
        };
    try (UnixListener listener = Peers.listen(dir);
        var peer = Peers.accept(listener, 1001, 1001, List.of())) {
      PeerIdentity id = peer.connection().peerIdentity();
      assertEquals(Outcome.ERROR, error.decide(id).outcome());
      assertTrue(error.decide(id).reason().contains("boom"));
      assertEquals(Outcome.ERROR, Policy.not(error).decide(id).outcome());
      assertEquals(Outcome.ALLOW, Policy.not(deny).decide(id).outcome());
      assertEquals(Outcome.DENY, Policy.not(allow).decide(id).outcome());
      assertEquals(Outcome.ALLOW, Policy.anyOf(error, allow).decide(id).outcome());
      assertEquals(Outcome.ERROR, Policy.anyOf(deny, error).decide(id).outcome());
      assertEquals(Outcome.DENY, Policy.anyOf(deny, deny).decide(id).outcome());
      assertEquals(Outcome.DENY, Policy.anyOf().decide(id).outcome());
      assertEquals(Outcome.ERROR, Policy.allOf(allow, error).decide(id).outcome());
      assertEquals(Outcome.DENY, Policy.allOf(deny, error).decide(id).outcome());
      assertEquals(Outcome.ALLOW, Policy.allOf(allow, Policy.uid(1001)).decide(id).outcome());
      assertEquals(Outcome.ALLOW, Policy.allOf().decide(id).outcome());
      Policy nullAnswer = p -> null;
      assertEquals(Outcome.ERROR, nullAnswer.decide(id).outcome());
      assertEquals(Outcome.ALLOW, Policy.anyone().decide(id).outcome());
    }
  }

  @Test
  void factoriesRejectBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> Policy.uid());
    assertThrows(IllegalArgumentException.class, () -> Policy.uid(-1));
    assertThrows(IllegalArgumentException.class, () -> Policy.uid(0xFFFF_FFFFL));
    assertThrows(IllegalArgumentException.class, () -> Policy.gid(1L << 32));
    assertThrows(IllegalArgumentException.class, () -> Policy.user("a b"));
    assertThrows(IllegalArgumentException.class, () -> Policy.group("123"));
    assertThrows(IllegalArgumentException.class, () -> Policy.executable(Path.of("rel/exe")));
    assertThrows(IllegalArgumentException.class, () -> Policy.executableSha256("abc"));
    assertThrows(IllegalArgumentException.class, () -> Policy.cgroup("system.slice"));
    assertThrows(IllegalArgumentException.class, () -> Policy.securityLabel(""));
    assertThrows(IllegalArgumentException.class, () -> Policy.securityLabel("#x"));
    assertThrows(IllegalArgumentException.class, () -> Policy.descendantOf(0));
    assertThrows(NullPointerException.class, () -> Policy.not(null));
    assertThrows(NullPointerException.class, () -> Policy.anyOf((Policy) null));
  }
}
