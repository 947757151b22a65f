package dev.peercred;

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
 * A server in another pid or user namespace (an {@link IdentityProbe} JVM under {@code unshare})
 * must see a client from outside as pid-unknown, or with unmapped ids, never as a real id.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PeerIdentityNamespaceTest {
  @TempDir Path dir;

  /** Starts the probe under {@code unshare options}, waits for READY, runs the client, collects. */
  private Map<String, String> probe(List<String> unshareOptions, ClientRun client)
      throws Exception {
    List<String> unshare = Users.unshare(unshareOptions.toArray(String[]::new));
    Users.openToEveryone(dir);
    Path socket = dir.resolve("s");
    List<String> command =
        JavaCommand.main(IdentityProbe.class).args(socket.toString()).toList(unshare);
    try (ChildProcess server = ChildProcess.builder(command).mergeStderr().start()) {
      server.awaitStdout(line -> line.equals("READY"));
      client.run(socket);
      server.assertExit(0);
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

  @FunctionalInterface
  private interface ClientRun {
    void run(Path socket) throws Exception;
  }

  @Test
  void serverInAnotherPidNamespaceSeesAnOutsideClientAsPidUnknown() throws Exception {
    Map<String, String> seen =
        probe(
            List.of("--pid", "--fork", "--mount-proc"),
            socket -> {
              try (UnixConnection connection = UnixConnection.connect(socket)) {
                connection.inputStream().read(); // until the probe is done with us
              }
            });
    assertEquals("none", seen.get("pid"), seen.toString());
    assertEquals("none", seen.get("process"), seen.toString());
    assertEquals("0", seen.get("uid"), seen.toString());
    assertEquals("true", seen.get("uidMapped"), seen.toString());
  }

  @Test
  void serverInAnotherUserNamespaceSeesOutsideIdsAsUnmapped() throws Exception {
    ChildProcess[] client = new ChildProcess[1];
    Map<String, String> seen;
    try {
      seen =
          probe(
              List.of("--user", "--map-root-user"),
              socket ->
                  client[0] = PeerClients.startPythonAs(1234, 2345, List.of(4L, 27L), socket));
      client[0].assertExit(0);
    } finally {
      if (client[0] != null) {
        client[0].close();
      }
    }
    long overflow = 65534;
    assertEquals(Long.toString(overflow), seen.get("uid"), seen.toString());
    assertEquals("false", seen.get("uidMapped"), seen.toString());
    assertEquals("false", seen.get("gidMapped"), seen.toString());
    assertEquals("[65534, 65534]", seen.get("groups"), seen.toString());
    assertEquals("[]", seen.get("mappedGroups"), seen.toString());
    assertEquals("true", seen.get("hasUnmappedGroups"), seen.toString());
    assertEquals("none", seen.get("userName"), "an unmapped uid is not nobody: " + seen);
    assertTrue(seen.get("process").startsWith("pid "), "same pid namespace: " + seen);
  }
}
