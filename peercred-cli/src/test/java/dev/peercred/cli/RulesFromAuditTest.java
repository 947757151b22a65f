package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.cli.http.HttpRules;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rules read off an audit trail: minimal, valid, and allowing what was seen. */
class RulesFromAuditTest {
  @TempDir Path dir;

  private static String record(long uid, String method, String route) {
    return "{\"connection\":1,\"uid\":"
        + uid
        + ",\"user\":\"u"
        + uid
        + "\",\"method\":\""
        + method
        + "\",\"path\":\"/v1.43"
        + route
        + "\",\"route\":\""
        + route
        + "\",\"decision\":\"would-deny\",\"status\":200}";
  }

  @Test
  void onePerCallerAndEndpointWithIdsGeneralizedAndMethodsMerged() throws Exception {
    Path audit = dir.resolve("audit.jsonl");
    Files.write(
        audit,
        java.util.List.of(
            record(65534, "GET", "/containers/json"),
            record(65534, "GET", "/containers/json"),
            record(65534, "GET", "/containers/3f1a/json"),
            record(65534, "GET", "/containers/b77c/json"),
            record(65534, "HEAD", "/_ping"),
            record(65534, "GET", "/_ping"),
            record(1000, "POST", "/containers/create"),
            record(1000, "GET", "/containers/%7Bx%7D/json".replace("%7B", "{").replace("%7D", "}")),
            "{\"connection\":2,\"uid\":0,\"decision\":\"deny\",\"reason\":\"bad request\"}",
            ""));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    assertEquals(
        0,
        Main.run(new PrintWriter(out), new PrintWriter(err), "rules-from-audit", audit.toString()),
        err.toString());
    String rules = out.toString();
    assertEquals(
        String.join(
            "\n",
            "# rules from " + audit,
            "# uid 1000 GET /containers/{x}/json: no rule can name this path; write one by hand if"
                + " it is needed",
            "allow uid 1000 http POST /containers/create body unprivileged   # 1 request, user"
                + " u1000; 1 with bodies not recorded (--audit-only records them)",
            "allow uid 65534 http GET,HEAD /_ping   # 2 requests, user u65534",
            "allow uid 65534 http GET /containers/json   # 2 requests, user u65534",
            "allow uid 65534 http GET /containers/{id}/json   # 2 requests, user u65534",
            ""),
        rules);
    assertTrue(HttpRules.parse(rules).hasHttpParts()); // and the file parses as rules
  }

  @Test
  void containerCreationsKeepTheirBodyCheckAndHostAccessIsNeverLearnedSilently() throws Exception {
    Path audit = dir.resolve("audit.jsonl");
    String create = record(1000, "POST", "/containers/create");
    Files.write(
        audit,
        java.util.List.of(
            create.replace("}", ",\"host_access\":[]}"),
            create.replace("}", ",\"host_access\":[]}"),
            create.replace("}", ",\"host_access\":[\"HostConfig.Privileged\"]}"),
            create.replace("}", ",\"host_access\":[\"HostConfig.Binds\"]}")));
    StringWriter out = new StringWriter();
    assertEquals(
        0,
        Main.run(
            new PrintWriter(out),
            new PrintWriter(new StringWriter()),
            "rules-from-audit",
            audit.toString()));
    String rules = out.toString();
    assertEquals(
        String.join(
            "\n",
            "# rules from " + audit,
            "allow uid 1000 http POST /containers/create body unprivileged   # 2 requests, user"
                + " u1000",
            "# uid 1000 POST /containers/create: 2 requests asked for host access"
                + " (HostConfig.Binds, HostConfig.Privileged); to allow that on purpose: allow uid"
                + " 1000 http POST /containers/create body privileged",
            ""),
        rules);
    assertTrue(HttpRules.parse(rules).hasHttpParts());
  }

  @Test
  void aLineThatIsNotJsonIsNamed() throws Exception {
    Path audit = dir.resolve("bad.jsonl");
    Files.writeString(audit, record(1, "GET", "/x") + "\nnot json\n");
    StringWriter err = new StringWriter();
    PrintWriter quiet = new PrintWriter(new StringWriter());
    assertEquals(65, Main.run(quiet, new PrintWriter(err), "rules-from-audit", audit.toString()));
    assertTrue(
        err.toString().startsWith("peercred rules-from-audit: " + audit + ":2: "), err.toString());
    assertEquals(
        66,
        Main.run(
            quiet, new PrintWriter(err), "rules-from-audit", dir.resolve("missing").toString()));
  }
}
