package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Tools;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The proxy's listening socket: permissions options and systemd socket activation. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ProxySocketTest {
  static final Duration T = ChildProcess.TIMEOUT;

  @TempDir Path dir;

  Cli.Result curl(long uid, long gid, Path socket) throws Exception {
    List<String> command = new ArrayList<>(Cli.asUser(uid, gid));
    command.addAll(List.of("curl", "-sS", "--unix-socket", socket.toString(), "http://p/hello"));
    return Cli.run(command, T);
  }

  Cli.Running backend(Path socket) throws Exception {
    Cli.Running backend =
        new Cli.Running(
            List.of(
                Tools.python3().toString(),
                "-u",
                ProxyCommandTest.script(),
                socket.toString(),
                dir.toString()),
            null);
    backend.awaitOut("listening"); // printed once the socket listens
    return backend;
  }

  @Test
  void modeAndGroupDecideWhoMayOpenTheSocketAtAll() throws Exception {
    Cli.assumeInstalled("curl");
    Cli.assumeInstalled("python3");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path proxySocket = dir.resolve("proxy.sock");
    Files.writeString(dir.resolve("policy"), "allow any\n");
    try (Cli.Running backend = backend(dir.resolve("backend.sock"));
        Cli.Running proxy =
            new Cli.Running(
                Cli.peercred(
                    "proxy",
                    "--listen",
                    proxySocket.toString(),
                    "--to",
                    dir.resolve("backend.sock").toString(),
                    "--policy",
                    dir.resolve("policy").toString(),
                    "--audit",
                    dir.resolve("audit").toString(),
                    "--mode",
                    "0660",
                    "--group",
                    "3003"),
                null)) {
      proxy.awaitErr(line -> line.contains("listening on"), T);
      assertEquals(
          "rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(proxySocket)));
      assertEquals(3003, Files.getAttribute(proxySocket, "unix:gid", LinkOption.NOFOLLOW_LINKS));
      assertEquals("hello\n", curl(1001, 3003, proxySocket).out(), "the group may connect");
      Cli.Result other = curl(1002, 1002, proxySocket);
      assertTrue(
          other.stderr().contains("Couldn't connect") || other.exitCode() == 7, other.stderr());
    }
  }

  @Test
  void badPermissionOptionsAreUsageErrors() throws Exception {
    Files.writeString(dir.resolve("policy"), "allow any\n");
    for (String[] option :
        new String[][] {
          {"--mode", "0999"}, {"--owner", "no-such-user-x"}, {"--group", "bad name"}
        }) {
      Cli.Result result =
          Cli.run(
              Cli.peercred(
                  "proxy",
                  "--listen",
                  dir.resolve("p.sock").toString(),
                  "--to",
                  dir.resolve("b.sock").toString(),
                  "--policy",
                  dir.resolve("policy").toString(),
                  option[0],
                  option[1]),
              T);
      assertEquals(64, result.exitCode(), option[0] + ": " + result.stderr());
      assertTrue(result.stderr().contains(option[0]), result.stderr());
    }
  }

  @Test
  void servesTheSocketPassedBySystemdSocketActivation() throws Exception {
    Cli.assumeInstalled("systemd-socket-activate");
    Cli.assumeInstalled("curl");
    Cli.assumeInstalled("python3");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path proxySocket = dir.resolve("activated.sock");
    Files.writeString(dir.resolve("policy"), "allow uid 1001\n");
    List<String> command =
        new ArrayList<>(List.of("systemd-socket-activate", "-l", proxySocket.toString()));
    command.addAll(
        Cli.peercred(
            "proxy",
            "--to",
            dir.resolve("backend.sock").toString(),
            "--policy",
            dir.resolve("policy").toString(),
            "--audit",
            dir.resolve("audit").toString()));
    try (Cli.Running backend = backend(dir.resolve("backend.sock"));
        Cli.Running activator = new Cli.Running(command, null)) {
      activator.awaitErr(line -> line.contains("Listening on"), T);
      Files.setPosixFilePermissions(proxySocket, PosixFilePermissions.fromString("rwxrwxrwx"));
      // The first connection starts the proxy, which takes the socket and answers it.
      Cli.Result allowed = curl(1001, 1001, proxySocket);
      assertEquals("hello\n", allowed.out(), allowed + "\n" + activator.describe());
      assertEquals(0, curl(1002, 1002, proxySocket).stdout().length);
      activator.awaitErr(line -> line.contains("listening on " + proxySocket), T);
    }
  }

  @Test
  void permissionOptionsAreRefusedWithAPassedSocket() throws Exception {
    Cli.assumeInstalled("systemd-socket-activate");
    Cli.assumeInstalled("curl");
    Files.writeString(dir.resolve("policy"), "allow any\n");
    Path socket = dir.resolve("activated.sock");
    List<String> command =
        new ArrayList<>(List.of("systemd-socket-activate", "-l", socket.toString()));
    command.addAll(
        Cli.peercred(
            "proxy",
            "--to",
            dir.resolve("backend.sock").toString(),
            "--policy",
            dir.resolve("policy").toString(),
            "--mode",
            "0600"));
    try (Cli.Running activator = new Cli.Running(command, null)) {
      activator.awaitErr(line -> line.contains("Listening on"), T);
      curl(0, 0, socket);
      activator.awaitErr(line -> line.contains("do not apply when systemd passes the socket"), T);
    }
  }
}
