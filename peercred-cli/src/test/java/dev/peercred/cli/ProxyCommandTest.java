package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
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
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ProxyCommandTest {
  static final Duration START = Duration.ofSeconds(30);
  static final Duration CLIENT = Duration.ofSeconds(60);

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
            List.of("/usr/bin/python3", "-u", script(), backendSocket.toString(), dir.toString()),
            null);
    long deadline = System.nanoTime() + START.toNanos();
    while (!Files.exists(backendSocket) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(Files.exists(backendSocket), "backend did not start: " + backend.errLines);
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

  List<Map<String, Object>> audit() throws IOException {
    List<Map<String, Object>> records = new ArrayList<>();
    if (!Files.exists(auditFile)) {
      return records;
    }
    for (String line : Files.readAllLines(auditFile)) {
      @SuppressWarnings("unchecked")
      Map<String, Object> record = (Map<String, Object>) Json.parse(line);
      records.add(record);
    }
    return records;
  }

  Map<String, Object> auditFor(long pidOrUid, String key) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      for (Map<String, Object> record : audit()) {
        if (Long.valueOf(pidOrUid).equals(record.get(key))) {
          return record;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no audit record with " + key + "=" + pidOrUid + ": " + audit());
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

    long moved = 0;
    for (Map<String, Object> record : audit()) {
      moved = Math.max(moved, (Long) record.get("bytes_out"));
    }
    assertTrue(moved > 100 << 20, "audit counts the bytes: " + audit());
  }

  @Test
  void reloadKeepsLiveConnectionsAndRefusesTheDroppedUser() throws Exception {
    startProxy("allow uid 1001\nallow uid 1002\n");
    List<String> command = new ArrayList<>(Cli.asUser(1002, 1002));
    command.addAll(
        List.of("curl", "-sSN", "--unix-socket", proxySocket.toString(), "http://proxy/gate"));
    Process live = new ProcessBuilder(command).start();
    InputStream liveOut = live.getInputStream();
    byte[] started = liveOut.readNBytes("started\n".length());
    assertEquals("started\n", new String(started, StandardCharsets.UTF_8));

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
    assertEquals("finished\n", new String(liveOut.readAllBytes(), StandardCharsets.UTF_8));
    assertTrue(live.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, live.exitValue(), "the live connection went on to its end");
    List<Map<String, Object>> records = audit();
    assertTrue(
        records.stream()
            .anyMatch(r -> r.get("uid").equals(1002L) && r.get("decision").equals("deny")),
        records.toString());
  }

  @Test
  void stopLetsOpenConnectionsFinishAndRemovesTheSocket() throws Exception {
    startProxy("allow uid 1001\n", "--grace", "20s");
    List<String> command = new ArrayList<>(Cli.asUser(1001, 1001));
    command.addAll(
        List.of("curl", "-sSN", "--unix-socket", proxySocket.toString(), "http://proxy/gate"));
    Process live = new ProcessBuilder(command).start();
    InputStream liveOut = live.getInputStream();
    assertEquals("started\n", new String(liveOut.readNBytes(8), StandardCharsets.UTF_8));

    proxy.signal("TERM");
    proxy.awaitErr(line -> line.contains("stopping"), START);
    assertFalse(Files.exists(proxySocket), "the socket is removed at once");
    assertNotEquals(0, curl(1001, "http://proxy/hello").exitCode(), "no new connections");

    Files.createFile(dir.resolve("gate"));
    assertEquals("finished\n", new String(liveOut.readAllBytes(), StandardCharsets.UTF_8));
    assertTrue(proxy.process.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, proxy.process.exitValue(), proxy.errLines.toString());
    assertEquals("allow", auditFor(1001, "uid").get("decision"));
  }

  @Test
  void graceEndsWithTheConnectionClosedAndAudited() throws Exception {
    startProxy("allow uid 1001\n", "--grace", "200ms");
    List<String> command = new ArrayList<>(Cli.asUser(1001, 1001));
    command.addAll(
        List.of("curl", "-sSN", "--unix-socket", proxySocket.toString(), "http://proxy/gate"));
    Process live = new ProcessBuilder(command).start();
    assertEquals(
        "started\n", new String(live.getInputStream().readNBytes(8), StandardCharsets.UTF_8));

    proxy.signal("INT");
    assertTrue(proxy.process.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, proxy.process.exitValue());
    assertTrue(live.waitFor(30, TimeUnit.SECONDS));
    assertNotEquals(0, live.exitValue(), "curl saw the connection cut short");
    assertTrue(
        String.valueOf(auditFor(1001, "uid").get("error")).contains("grace"), audit().toString());
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
    Path stdout = dir.resolve("stdout");
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
            stdout);
    proxy.awaitErr(line -> line.contains("listening on"), START);
    Files.setPosixFilePermissions(proxySocket, PosixFilePermissions.fromString("rwxrwxrwx"));
    assertEquals(0, curl(1001, "http://proxy/hello").stdout().length);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (Files.size(stdout) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> record =
        (Map<String, Object>) Json.parse(Files.readAllLines(stdout).get(0));
    assertEquals(1001L, record.get("uid"));
    assertTrue(
        String.valueOf(record.get("reason")).startsWith("line 1 'deny any' matched"),
        record.toString());
  }
}
