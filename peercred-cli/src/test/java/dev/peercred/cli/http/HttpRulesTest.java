package dev.peercred.cli.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.ConnectionPair;
import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.policy.Decision;
import dev.peercred.policy.PolicyRules;
import dev.peercred.policy.PolicySyntaxException;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Per-request rules, decided for this process as the caller (a socket pair's peer). */
class HttpRulesTest {
  private ConnectionPair pair;
  private long me;

  @BeforeEach
  void connect() throws Exception {
    pair = UnixConnection.pair();
    me = PeerCredentials.ofCurrentProcess().uid();
  }

  @AfterEach
  void close() {
    pair.close();
  }

  private PolicyRules.Verdict decide(String rules, String request) throws HttpException {
    return decide(rules, request, null);
  }

  private PolicyRules.Verdict decide(String rules, String request, HttpRules.BodyFacts body)
      throws HttpException {
    HttpRules parsed = HttpRules.parse(rules);
    return parsed
        .forPeer(pair.first().peerIdentity())
        .decide(HttpParsingTest.request(request + " HTTP/1.1\r\n\r\n"), body);
  }

  @Test
  void theFirstRuleMatchingCallerAndRequestDecides() throws HttpException {
    String rules =
        """
        deny uid 4000000000                              # someone else
        allow uid %d http GET,HEAD /_ping
        allow uid %d http GET /containers/{id}/json
        allow user http http GET /users/only             # a user named http, then the http part
        deny uid %d http * /containers/**
        allow uid %d http * /images/**
        """
            .formatted(me, me, me, me);
    assertTrue(decide(rules, "GET /v1.41/_ping").decision().allowed());
    assertTrue(decide(rules, "HEAD /_ping").decision().allowed());
    assertFalse(decide(rules, "POST /_ping").decision().allowed());
    PolicyRules.Verdict inspect = decide(rules, "GET /containers/abc/json");
    assertTrue(inspect.decision().allowed());
    assertEquals(3, inspect.rule().orElseThrow().line());
    PolicyRules.Verdict create = decide(rules, "POST /containers/create");
    assertEquals(Decision.Outcome.DENY, create.decision().outcome());
    assertEquals(5, create.rule().orElseThrow().line());
    assertTrue(decide(rules, "DELETE /images/abc").decision().allowed());
    assertTrue(decide(rules, "GET /images").decision().allowed()); // ** is zero or more
    PolicyRules.Verdict none = decide(rules, "GET /info");
    assertFalse(none.decision().allowed());
    assertTrue(none.rule().isEmpty());
  }

  @Test
  void callerRulesWithoutAnHttpPartCoverEveryRequestButOpaqueOnes() throws HttpException {
    String rules = "allow uid " + me + "\n";
    assertTrue(decide(rules, "POST /containers/create").decision().allowed());
    assertFalse(decide(rules, "POST /session").decision().allowed());
    assertFalse(decide(rules, "POST /v1.43/grpc").decision().allowed());
    // every version prefix the Engine and Podman route, not only the usual v1.43
    assertFalse(decide(rules, "POST /v1.43.0.0/session").decision().allowed());
    assertFalse(decide(rules, "POST /v1.43./session").decision().allowed());
    assertFalse(decide(rules, "POST /v4.0.0-dev/libpod/grpc").decision().allowed());
    String wildcard = "allow uid " + me + " http * /**\n";
    assertFalse(decide(wildcard, "POST /session").decision().allowed());
    assertFalse(decide(wildcard, "POST /v1.43.0.0/session").decision().allowed());
    String named = "allow uid " + me + " http POST /session\n";
    assertTrue(decide(named, "POST /session").decision().allowed());
  }

  @Test
  void presetsExpandToTheirEndpoints() throws HttpException {
    String rules = "allow uid " + me + " http docker-read-only\n";
    assertTrue(decide(rules, "GET /v1.43/containers/json?all=1").decision().allowed());
    assertTrue(decide(rules, "GET /containers/abc/logs").decision().allowed());
    assertFalse(decide(rules, "GET /containers/abc/archive").decision().allowed());
    assertFalse(decide(rules, "GET /containers/abc/export").decision().allowed());
    assertFalse(decide(rules, "POST /containers/create").decision().allowed());
  }

  @Test
  void bodyChecksDecideContainerCreation() throws HttpException {
    String rules = "allow uid " + me + " http POST /containers/create body unprivileged\n";
    String create = "POST /containers/create";
    HttpRules parsed = HttpRules.parse(rules);
    assertTrue(
        parsed
            .forPeer(pair.first().peerIdentity())
            .needsBody(HttpParsingTest.request(create + " HTTP/1.1\r\n\r\n")));
    assertTrue(
        decide(rules, create, new HttpRules.BodyFacts(List.of(), null)).decision().allowed());
    assertEquals(
        Decision.Outcome.DENY,
        decide(rules, create, new HttpRules.BodyFacts(List.of("HostConfig.Privileged"), null))
            .decision()
            .outcome());
    assertEquals(
        Decision.Outcome.ERROR,
        decide(rules, create, new HttpRules.BodyFacts(null, "not JSON")).decision().outcome());
  }

  @Test
  void syntaxErrorsNameLineAndColumn() {
    PolicySyntaxException e =
        assertThrows(
            PolicySyntaxException.class,
            () -> HttpRules.parse("allow uid 0\nallow uid 1 http GET containers\n"));
    assertEquals(2, e.line());
    assertEquals(22, e.column());
    e =
        assertThrows(
            PolicySyntaxException.class,
            () -> HttpRules.parse("allow uid 1 http no-such-preset\n"));
    assertTrue(e.problem().contains("unknown preset"), e.getMessage());
    e =
        assertThrows(
            PolicySyntaxException.class,
            () -> HttpRules.parse("allow uid 1 http GET /containers/json body unprivileged\n"));
    assertTrue(e.problem().contains("POST /containers/create"), e.getMessage());
    e =
        assertThrows(
            PolicySyntaxException.class, () -> HttpRules.parse("allow uidd 1 http GET /\n"));
    assertEquals(1, e.line());
  }
}
