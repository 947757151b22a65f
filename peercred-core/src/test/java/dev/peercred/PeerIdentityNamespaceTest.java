package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
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
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PeerIdentityNamespaceTest {
  @TempDir Path dir;

  /** Starts the probe under {@code unshare options}, waits for READY, runs the client, collects. */
  private Map<String, String> probe(List<String> unshareOptions, ClientRun client)
      throws Exception {
    PeerClients.assumeRoot();
    PeerClients.assumeTool(PeerClients.UNSHARE);
    PeerClients.openDirectory(dir);
    Path socket = dir.resolve("s");
    List<String> command = new ArrayList<>();
    command.add(PeerClients.UNSHARE.toString());
    command.addAll(unshareOptions);
    command.addAll(PeerClients.javaCommand(IdentityProbe.class.getName(), socket.toString()));
    Process server = new ProcessBuilder(command).redirectErrorStream(true).start();
    List<String> lines = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
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
      client.run(socket);
      while ((line = out.readLine()) != null && !line.equals("DONE")) {
        lines.add(line);
        int eq = line.indexOf('=');
        if (eq > 0) {
          seen.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      assertEquals(0, server.waitFor(), () -> "probe failed: " + lines);
    } finally {
      server.destroyForcibly();
    }
    return seen;
  }

  private static byte[] readQuietly(Process process) {
    try {
      return process.getInputStream().readAllBytes();
    } catch (IOException e) {
      return e.toString().getBytes(StandardCharsets.UTF_8);
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
    Process[] client = new Process[1];
    Map<String, String> seen =
        probe(
            List.of("--user", "--map-root-user"),
            socket -> client[0] = PeerClients.startPythonAs(1234, 2345, List.of(4L, 27L), socket));
    assertEquals(
        0,
        client[0].waitFor(),
        () -> "client failed: " + new String(readQuietly(client[0]), StandardCharsets.UTF_8));
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
