package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Await;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Tools;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: {@code peercred proxy} in its own process in front of a real HTTP server on a Unix
 * socket, called with {@code curl --unix-socket} as several users.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ProxyCommandTest {
  static final Duration START = ChildProcess.TIMEOUT;
  static final Duration CLIENT = ChildProcess.TIMEOUT;

  @TempDir Path dir;
  Path backendSocket;
  Path proxySocket;
  Path policy;
  Path auditFile;
  Cli.Running backend;
  Cli.Running proxy;

  @BeforeEach
  void startBackend() throws Exception {
    Cli.assumeInstalled("curl");
    Cli.assumeInstalled("python3");
    Cli.assumeInstalled("setpriv");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    backendSocket = dir.resolve("backend.sock");
    proxySocket = dir.resolve("proxy.sock");
    policy = dir.resolve("policy");
    auditFile = dir.resolve("audit.log");
    backend =
        new Cli.Running(
            List.of(
                Tools.python3().toString(),
                "-u",
                script(),
                backendSocket.toString(),
                dir.toString()),
            null);
    backend.awaitOut("listening"); // printed once the socket listens
  }

  @AfterEach
  void stopAll() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (backend != null) {
      backend.close();
    }
  }

  static String script() throws URISyntaxException {
    return Path.of(ProxyCommandTest.class.getResource("unix_http_server.py").toURI()).toString();
  }

  void startProxy(String policyText, String... extra) throws Exception {
    Files.writeString(policy, policyText);
    List<String> args =
        new ArrayList<>(
            List.of(
                "proxy",
                "--listen",
                proxySocket.toString(),
                "--to",
                backendSocket.toString(),
                "--policy",
                policy.toString(),
                "--audit",
                auditFile.toString()));
    args.addAll(List.of(extra));
    proxy = new Cli.Running(Cli.peercred(args.toArray(String[]::new)), null);
    proxy.awaitErr(line -> line.contains("listening on " + proxySocket), START);
    Files.setPosixFilePermissions(proxySocket, PosixFilePermissions.fromString("rwxrwxrwx"));
  }

  Cli.Result curl(long uid, String... args) throws Exception {
    List<String> command = new ArrayList<>(Cli.asUser(uid, uid));
    command.addAll(List.of("curl", "-sS", "--unix-socket", proxySocket.toString()));
    command.addAll(List.of(args));
    return Cli.run(command, CLIENT);
  }

  /** The audit records written so far: the complete lines (the proxy may be writing the next). */
  List<Map<String, Object>> audit() throws IOException {
    List<Map<String, Object>> records = new ArrayList<>();
    if (!Files.exists(auditFile)) {
      return records;
    }
    String text = Files.readString(auditFile);
    for (String line : text.substring(0, text.lastIndexOf('\n') + 1).lines().toList()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> record = (Map<String, Object>) Json.parse(line);
      records.add(record);
    }
    return records;
  }

  /**
   * Waits for the audit record with {@code key} = {@code pidOrUid}, written as a connection ends.
   */
  Map<String, Object> auditFor(long pidOrUid, String key) throws Exception {
    return Await.value(
        Await.TIMEOUT,
        "an audit record with " + key + "=" + pidOrUid,
        () -> audit().stream().filter(r -> Long.valueOf(pidOrUid).equals(r.get(key))).findFirst(),
        () -> "audit: " + audit() + "\n" + proxy.describe());
  }

  /** curl as {@code uid} fetching {@code url} with no buffering, running until told to stop. */
  ChildProcess liveCurl(long uid, String url) throws Exception {
    List<String> command = new ArrayList<>(Cli.asUser(uid, uid));
    command.addAll(List.of("curl", "-sSN", "--unix-socket", proxySocket.toString(), url));
    return ChildProcess.start(command);
  }

  @Test
  void allowedUsersGetTheAnswerAndRefusedUsersGetNothingButAnAuditLine() throws Exception {
    startProxy("allow uid 1001\nallow gid 2002\ndeny uid 1003\n");

    Cli.Result first = curl(1001, "http://proxy/hello");
    assertEquals(0, first.exitCode(), first.stderr());
    assertEquals("hello\n", first.out());

    List<String> command = new ArrayList<>(Cli.asUser(1002, 2002));
    command.addAll(
        List.of("curl", "-sS", "--unix-socket", proxySocket.toString(), "http://p/hello"));
    Cli.Result second = Cli.run(command, CLIENT);
    assertEquals("hello\n", second.out(), second.stderr());

    Cli.Result third = curl(1003, "http://proxy/hello");
    assertNotEquals(0, third.exitCode());
    assertEquals(0, third.stdout().length, "a refused caller reads nothing");
    Cli.Result fourth = curl(1004, "http://proxy/hello");
    assertEquals(0, fourth.stdout().length, "a caller no rule matches reads nothing");

    Map<String, Object> allowed = auditFor(1001, "uid");
    assertEquals("allow", allowed.get("decision"));
    assertTrue(
        String.valueOf(allowed.get("reason")).startsWith("line 1 'allow uid 1001' matched"),
        allowed.toString());
    assertEquals(1001L, allowed.get("gid"));
    assertTrue((Long) allowed.get("pid") > 0);
    assertTrue((Long) allowed.get("bytes_in") > 0);
    assertTrue((Long) allowed.get("bytes_out") > "hello\n".length());
    assertTrue(allowed.containsKey("duration_ms") && allowed.containsKey("time"));
    assertTrue(String.valueOf(auditFor(1002, "uid").get("reason")).startsWith("line 2 "));
    Map<String, Object> denied = auditFor(1003, "uid");
    assertEquals("deny", denied.get("decision"));
    assertTrue(
        String.valueOf(denied.get("reason")).startsWith("line 3 'deny uid 1003' matched"),
        denied.toString());
    assertEquals(0L, denied.get("bytes_out"));
    assertEquals("no rule matched; default deny", auditFor(1004, "uid").get("reason"));
  }

  @Test
  void largeTransfersArriveIntactInBothDirections() throws Exception {
    startProxy("allow uid 1001\n");
    Path big = dir.resolve("big");
    byte[] chunk = new byte[1 << 20];
    Random random = new Random(42);
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    try (var out = Files.newOutputStream(big)) {
      for (int i = 0; i < 100; i++) {
        random.nextBytes(chunk);
        digest.update(chunk);
        out.write(chunk);
      }
    }
    Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("rw-r--r--"));
    String expected = HexFormat.of().formatHex(digest.digest());

    Cli.Result download = curl(1001, "http://proxy/file/big");
    assertEquals(0, download.exitCode(), download.stderr());
    assertEquals(100 << 20, download.stdout().length);
    assertEquals(
        expected,
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(download.stdout())));

    Cli.Result upload =
        curl(
            1001,
            "-H",
            "Expect:",
            "--data-binary",
            "@" + big,
            "-H",
            "Content-Type: application/octet-stream",
            "http://proxy/sha256");
    assertEquals(0, upload.exitCode(), upload.stderr());
    assertEquals(expected + "\n", upload.out());

    // A connection's record is written as it ends, which may come just after curl's exit.
    Await.until(
        "an audit record counting the 100 MB",
        () -> audit().stream().anyMatch(r -> (Long) r.get("bytes_out") > 100 << 20),
        () -> "audit counts the bytes: " + audit());
  }

  @Test
  void reloadKeepsLiveConnectionsAndRefusesTheDroppedUser() throws Exception {
    startProxy("allow uid 1001\nallow uid 1002\n");
    try (ChildProcess live = liveCurl(1002, "http://proxy/gate")) {
      live.awaitStdout(line -> line.equals("started"));

      Files.writeString(policy, "allow uid 1001\n");
      proxy.signal("HUP");
      proxy.awaitErr(line -> line.contains("policy reloaded"), START);

      Cli.Result dropped = curl(1002, "http://proxy/hello");
      assertEquals(0, dropped.stdout().length, "the dropped user is refused");
      Cli.Result kept = curl(1001, "http://proxy/hello");
      assertEquals("hello\n", kept.out());

      Files.writeString(policy, "allow uid one-thousand\n");
      proxy.signal("HUP");
      proxy.awaitErr(line -> line.contains("policy reload failed") && line.contains(":1:"), START);
      assertEquals("hello\n", curl(1001, "http://proxy/hello").out(), "the old policy stays");

      Files.createFile(dir.resolve("gate"));
      ChildProcess.Result ended = live.finish();
      assertEquals("started\nfinished\n", ended.stdout(), ended.toString());
      assertEquals(0, ended.exitCode(), "the live connection went on to its end\n" + ended);
      Await.until(
          "an audit record denying uid 1002",
          () ->
              audit().stream()
                  .anyMatch(r -> r.get("uid").equals(1002L) && r.get("decision").equals("deny")),
          () -> audit().toString());
    }
  }

  @Test
  void aProxyStartedWithSighupIgnoredSaysItCannotReload() throws Exception {
    Files.writeString(policy, "allow uid 1001\n");
    List<String> command =
        new ArrayList<>(List.of("/usr/bin/env", "--ignore-signal=HUP")); // as under nohup
    command.addAll(
        Cli.peercred(
            "proxy",
            "--listen",
            proxySocket.toString(),
            "--to",
            backendSocket.toString(),
            "--policy",
            policy.toString(),
            "--audit",
            auditFile.toString()));
    proxy = new Cli.Running(command, null);
    String line = proxy.awaitErr(l -> l.contains("listening on " + proxySocket), START);
    assertTrue(line.contains("SIGHUP is not handled"), proxy.describe());
  }

  @Test
  void stopLetsOpenConnectionsFinishAndRemovesTheSocket() throws Exception {
    startProxy("allow uid 1001\n", "--grace", "60s");
    try (ChildProcess live = liveCurl(1001, "http://proxy/gate")) {
      live.awaitStdout(line -> line.equals("started"));

      proxy.signal("TERM");
      proxy.awaitErr(line -> line.contains("stopping"), START);
      assertFalse(Files.exists(proxySocket), "the socket is removed at once");
      assertNotEquals(0, curl(1001, "http://proxy/hello").exitCode(), "no new connections");

      Files.createFile(dir.resolve("gate"));
      ChildProcess.Result ended = live.finish();
      assertEquals("started\nfinished\n", ended.stdout(), ended.toString());
      assertEquals(0, proxy.child.awaitExit(), proxy.describe());
      assertEquals("allow", auditFor(1001, "uid").get("decision"));
    }
  }

  @Test
  void graceEndsWithTheConnectionClosedAndAudited() throws Exception {
    // The gate never opens: the connection outlives the grace period, which ends it.
    startProxy("allow uid 1001\n", "--grace", "200ms");
    try (ChildProcess live = liveCurl(1001, "http://proxy/gate")) {
      live.awaitStdout(line -> line.equals("started"));

      proxy.signal("INT");
      assertEquals(0, proxy.child.awaitExit(), proxy.describe());
      ChildProcess.Result cut = live.finish();
      assertNotEquals(0, cut.exitCode(), "curl saw the connection cut short\n" + cut);
      assertTrue(
          String.valueOf(auditFor(1001, "uid").get("error")).contains("grace"), audit().toString());
    }
  }

  @Test
  void unreachableBackendClosesTheClientAndIsAudited() throws Exception {
    Files.writeString(policy, "allow any\n");
    Path missing = dir.resolve("missing.sock");
    proxy =
        new Cli.Running(
            Cli.peercred(
                "proxy",
                "--listen",
                proxySocket.toString(),
                "--to",
                missing.toString(),
                "--policy",
                policy.toString(),
                "--audit",
                auditFile.toString()),
            null);
    proxy.awaitErr(line -> line.contains("does not exist yet"), START);
    proxy.awaitErr(line -> line.contains("listening on"), START);
    Files.setPosixFilePermissions(proxySocket, PosixFilePermissions.fromString("rwxrwxrwx"));

    Cli.Result result = curl(1001, "http://proxy/hello");
    assertNotEquals(0, result.exitCode());
    assertEquals(0, result.stdout().length);
    Map<String, Object> record = auditFor(1001, "uid");
    assertEquals("allow", record.get("decision"));
    assertTrue(String.valueOf(record.get("error")).contains("missing.sock"), record.toString());
  }

  @Test
  void auditGoesToStandardOutputByDefault() throws Exception {
    Files.writeString(policy, "deny any\n");
    proxy =
        new Cli.Running(
            Cli.peercred(
                "proxy",
                "--listen",
                proxySocket.toString(),
                "--to",
                backendSocket.toString(),
                "--policy",
                policy.toString()),
            null);
    proxy.awaitErr(line -> line.contains("listening on"), START);
    Files.setPosixFilePermissions(proxySocket, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertEquals(0, curl(1001, "http://proxy/hello").stdout().length);
    @SuppressWarnings("unchecked")
    Map<String, Object> record = (Map<String, Object>) Json.parse(proxy.awaitOut("{"));
    assertEquals(1001L, record.get("uid"));
    assertTrue(
        String.valueOf(record.get("reason")).startsWith("line 1 'deny any' matched"),
        record.toString());
  }
}
