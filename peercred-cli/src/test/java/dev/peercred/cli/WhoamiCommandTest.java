package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code peercred whoami} against a plain server and against the proxy, as another user. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WhoamiCommandTest {
  static final Duration T = Duration.ofSeconds(30);

  @TempDir Path dir;

  @SuppressWarnings("unchecked")
  static Map<String, Object> object(Object value) {
    return (Map<String, Object>) value;
  }

  @Test
  void showsTheServerAndHowTheProxySeesUs() throws Exception {
    Cli.assumeInstalled("python3");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path backendSocket = dir.resolve("backend.sock");
    Path proxySocket = dir.resolve("proxy.sock");
    Files.writeString(dir.resolve("policy"), "allow uid 1001\n");
    try (Cli.Running backend =
            new Cli.Running(
                List.of(
                    "/usr/bin/python3",
                    ProxyCommandTest.script(),
                    backendSocket.toString(),
                    dir.toString()),
                null);
        Cli.Running proxy =
            new Cli.Running(
                Cli.peercred(
                    "proxy",
                    "--listen",
                    proxySocket.toString(),
                    "--to",
                    backendSocket.toString(),
                    "--policy",
                    dir.resolve("policy").toString(),
                    "--audit",
                    dir.resolve("audit").toString()),
                null)) {
      proxy.awaitErr(line -> line.contains("listening on"), T);
      Files.setPosixFilePermissions(proxySocket, PosixFilePermissions.fromString("rwxrwxrwx"));
      Cli.awaitListening(backendSocket, T);
      Files.setPosixFilePermissions(backendSocket, PosixFilePermissions.fromString("rwxrwxrwx"));

      // A generous --timeout: on a loaded machine the proxy may take seconds to answer the probe.
      Cli.Result viaProxy =
          Cli.run(
              Cli.peercredAs(
                  1001, dir, "whoami", "--json", "--timeout", "30s", proxySocket.toString()),
              T);
      Map<String, Object> result = object(viaProxy.expectExit(0).json());
      Map<String, Object> server = object(result.get("server"));
      assertEquals(proxy.pid(), server.get("pid"));
      assertEquals(0L, server.get("uid"));
      assertEquals("root", server.get("user"));
      Map<String, Object> seen = object(result.get("seen_by_server"));
      assertNotNull(seen, viaProxy::toString);
      assertEquals(1001L, seen.get("uid"));
      assertEquals(1001L, seen.get("gid"));
      assertEquals("allow", seen.get("decision"));
      assertEquals("peercred proxy", seen.get("server"));

      Cli.Result refused =
          Cli.run(
              Cli.peercredAs(
                  1002, dir, "whoami", "--json", "--timeout", "30s", proxySocket.toString()),
              T);
      Map<String, Object> refusedSeen =
          object(object(refused.expectExit(0).json()).get("seen_by_server"));
      assertNotNull(refusedSeen, refused::toString);
      assertEquals(1002L, refusedSeen.get("uid"));
      assertEquals("deny", refusedSeen.get("decision"));

      Cli.Result direct = Cli.run(Cli.peercred("whoami", backendSocket.toString()), T);
      direct.expectExit(0);
      assertTrue(direct.out().contains("pid     " + backend.pid()), direct.out());
      assertTrue(direct.out().contains("not offered by this server"), direct.out());
      assertTrue(direct.out().contains("uid     0 (root)"), direct.out());
      assertTrue(direct.out().matches("(?s).*exe     /usr/bin/python3[.0-9]*\n.*"), direct.out());

      Cli.Result directJson =
          Cli.run(Cli.peercred("whoami", "--json", "--no-probe", backendSocket.toString()), T);
      assertNull(object(directJson.expectExit(0).json()).get("seen_by_server"));
    }
  }

  @Test
  void nothingListeningExits69() throws Exception {
    Cli.Result result = Cli.run(Cli.peercred("whoami", dir.resolve("none.sock").toString()), T);
    result.expectExit(69);
    assertTrue(result.stderr().contains("cannot connect"), result.stderr());
  }

  @Test
  void permissionDeniedExits77() throws Exception {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    Path socket = dir.resolve("private.sock");
    try (var listener = dev.peercred.UnixListener.bind(socket)) {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwx------"));
      Cli.Result result = Cli.run(Cli.peercredAs(1001, dir, "whoami", socket.toString()), T);
      result.expectExit(77);
    }
  }
}
