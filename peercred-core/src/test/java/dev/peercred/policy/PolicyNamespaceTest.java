package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Users;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unknown values never satisfy a rule: a server in another user namespace sees outside ids as
 * unmapped, one in another pid namespace sees outside peers with pid 0. Neither a rule nor its
 * negation may then allow, and a deny list must not let the peer through.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PolicyNamespaceTest {
  @TempDir Path dir;

  private Map<String, String> probe(List<String> unshareOptions, long clientUid) throws Exception {
    Peers.assumeTools();
    List<String> unshare = Users.unshare(unshareOptions.toArray(String[]::new));
    Users.openToEveryone(dir);
    Path socket = dir.resolve("s");
    List<String> command =
        JavaCommand.main(PolicyProbe.class).args(socket.toString()).toList(unshare);
    try (ChildProcess server = ChildProcess.builder(command).mergeStderr().start()) {
      server.awaitStdout(line -> line.equals("READY"));
      try (ChildProcess client = Peers.client(socket, clientUid, clientUid, List.of(), "")) {
        server.assertExit(0);
        client.awaitExit();
      }
      Map<String, String> seen = new HashMap<>();
      for (String line : server.stdoutLines()) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          seen.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      assertTrue(server.stdoutLines().contains("DONE"), server.describe());
      return seen;
    }
  }

  @Test
  void unmappedIdsNeverMatchAndTheirNegationNeverAllows() throws Exception {
    Map<String, String> seen = probe(List.of("--user", "--map-root-user"), 1234);
    assertEquals("ERROR", seen.get("uid-overflow"), seen.toString());
    assertEquals("ERROR", seen.get("not-uid-overflow"), seen.toString());
    assertEquals("ERROR", seen.get("not-uid-1234"), seen.toString());
    assertEquals("ERROR", seen.get("gid-overflow"), seen.toString());
    assertEquals("ERROR", seen.get("root"), seen.toString());
    assertEquals("ERROR", seen.get("deny-list"), "uid 1234 must not slip past 'deny uid 1234'");
    // Reading /proc/<pid>/exe of a process outside a user namespace is not permitted: unknown.
    assertEquals("ERROR", seen.get("not-exe"), seen.toString());
  }

  @Test
  void aPeerWithoutAVisiblePidNeverMatchesProcessRules() throws Exception {
    Map<String, String> seen = probe(List.of("--pid", "--fork", "--mount-proc"), 1234);
    assertEquals("ERROR", seen.get("exe"), seen.toString());
    assertEquals("ERROR", seen.get("not-exe"), seen.toString());
    assertEquals("ERROR", seen.get("descendant"), seen.toString());
    assertEquals("ERROR", seen.get("deny-exe-list"), "a deny rule that cannot be checked denies");
    assertEquals("DENY", seen.get("root"), "ids are still mapped here: " + seen);
  }
}
