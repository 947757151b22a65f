package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unknown values never satisfy a rule: a server in another user namespace sees outside ids as
 * unmapped, one in another pid namespace sees outside peers with pid 0. Neither a rule nor its
 * negation may then allow, and a deny list must not let the peer through.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PolicyNamespaceTest {
  private static final Path UNSHARE = Path.of("/usr/bin/unshare");

  @TempDir Path dir;

  private Map<String, String> probe(List<String> unshare, long clientUid) throws Exception {
    Peers.assumeTools();
    Assumptions.assumeTrue(Files.isExecutable(UNSHARE), "needs /usr/bin/unshare (util-linux)");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path socket = dir.resolve("s");
    List<String> command = new ArrayList<>();
    command.add(UNSHARE.toString());
    command.addAll(unshare);
    command.addAll(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "--enable-native-access=ALL-UNNAMED",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            PolicyProbe.class.getName(),
            socket.toString()));
    Process server = new ProcessBuilder(command).redirectErrorStream(true).start();
    Map<String, String> seen = new HashMap<>();
    List<String> lines = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null && !line.equals("READY")) {
        lines.add(line);
      }
      if (line == null) {
        throw new AssertionError("probe did not start: " + lines);
      }
      Process client = Peers.client(socket, clientUid, clientUid, List.of(), "");
      while ((line = out.readLine()) != null && !line.equals("DONE")) {
        lines.add(line);
        int eq = line.indexOf('=');
        if (eq > 0) {
          seen.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      assertEquals(0, server.waitFor(), () -> "probe failed: " + lines);
      client.waitFor(20, TimeUnit.SECONDS);
    } finally {
      server.destroyForcibly();
    }
    return seen;
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
