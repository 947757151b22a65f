package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.ListenerOptions;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.UnixSocketAddress;
import dev.peercred.cli.http.HttpRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP guard between real clients (raw sockets, curl as other users) and a real HTTP/1.1
 * backend that logs every request it receives: what is refused must never reach it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HttpGuardTest {
  @TempDir Path dir;
  private Cli.Running backend;
  private Proxy proxy;
  private Thread proxyThread;
  private Path proxySocket;
  private Path backendLog;
  private Path auditFile;

  private void start(String rules, boolean auditOnly) throws Exception {
    Cli.assumeInstalled("python3");
    Path backendSocket = dir.resolve("api.sock");
    backendLog = dir.resolve("api.log");
    Files.createFile(backendLog);
    String script = Path.of(HttpGuardTest.class.getResource("api_server.py").toURI()).toString();
    backend =
        new Cli.Running(
            List.of("python3", script, backendSocket.toString(), backendLog.toString()), null);
    backend.awaitErr(line -> line.contains("listening"), Duration.ofSeconds(30));
    proxySocket = dir.resolve("guard.sock");
    auditFile = dir.resolve("audit.jsonl");
    Files.setPosixFilePermissions(
        dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    UnixListener listener =
        UnixListener.bind(proxySocket, ListenerOptions.defaults().withMode(0777));
    proxy =
        new Proxy(
            listener,
            UnixSocketAddress.of(backendSocket),
            HttpRules.parse(rules),
            auditOnly,
            AuditLog.toFile(auditFile),
            Duration.ofSeconds(5));
    proxyThread = Thread.ofVirtual().start(proxy::run);
  }

  @AfterEach
  void stop() throws Exception {
    if (proxy != null) {
      proxy.listener().closeGracefully(Duration.ZERO);
      proxyThread.join();
    }
    if (backend != null) {
      backend.close();
    }
  }

  private List<String> received() throws IOException {
    return Files.readAllLines(backendLog);
  }

  private List<Map<String, Object>> audit() throws IOException {
    List<Map<String, Object>> records = new ArrayList<>();
    for (String line : Files.readAllLines(auditFile)) {
      @SuppressWarnings("unchecked")
      Map<String, Object> record = (Map<String, Object>) Json.parse(line);
      records.add(record);
    }
    return records;
  }

  /** Sends {@code requests} in one write, reads to the end of the connection. */
  private String exchange(String requests) throws IOException {
    try (UnixConnection c = UnixConnection.connect(proxySocket)) {
      c.setReadTimeout(Duration.ofSeconds(60));
      c.outputStream().write(requests.getBytes(StandardCharsets.ISO_8859_1));
      return new String(c.inputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  /** curl as {@code uid}: the status code, then the body. */
  private String curl(long uid, String method, String path, String... extra) throws Exception {
    return Cli.curlStatusAndBody(proxySocket, uid, method, path, extra);
  }

  @Test
  void anAllowedRequestIsAnsweredAndTheForbiddenOneAfterItOnTheSameConnectionIsRefused()
      throws Exception {
    start("allow uid 0 http GET /containers/json\n", false);
    String answers =
        exchange(
            "GET /v1.43/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n"
                + "POST /v1.43/containers/create HTTP/1.1\r\nHost: docker\r\n"
                + "Content-Length: 2\r\n\r\n{}"
                + "GET /v1.43/containers/json HTTP/1.1\r\nHost: docker\r\n\r\n");
    assertTrue(answers.startsWith("HTTP/1.1 200 OK\r\n"), answers);
    int refusal = answers.indexOf("HTTP/1.1 403 Forbidden\r\n");
    assertTrue(refusal > 0, answers);
    assertTrue(
        answers.endsWith(
            "{\"message\":\"peercred: uid 0 may not POST /containers/create (no rule allows"
                + " it)\"}\n"),
        answers);
    assertEquals(1, answers.split("HTTP/1.1 ").length - 2, "nothing after the refusal: " + answers);
    assertEquals(List.of("GET /v1.43/containers/json 0"), received());
    List<Map<String, Object>> audit = audit();
    assertEquals(2, audit.size(), audit.toString());
    assertEquals("allow", audit.get(0).get("decision"));
    assertEquals(200L, ((Number) audit.get(0).get("status")).longValue());
    assertEquals("/containers/json", audit.get(0).get("route"));
    assertEquals("deny", audit.get(1).get("decision"));
    assertEquals(403L, ((Number) audit.get(1).get("status")).longValue());
  }

  @Test
  void otherUsersGetDockerStyleRefusalsAndOnlyWhatTheirRulesAllow() throws Exception {
    start(
        """
        allow uid 0
        allow uid 65534 http GET /containers/json
        allow uid 65534 http GET /containers/{id}/json
        """,
        false);
    assertTrue(curl(65534, "GET", "/v1.41/containers/json?all=1").startsWith("200 {"));
    assertTrue(curl(65534, "GET", "/v1.41/containers/abc/json").startsWith("200 {"));
    assertEquals(
        "403 {\"message\":\"peercred: uid 65534 may not POST /containers/create (no rule allows"
            + " it)\"}\n",
        curl(65534, "POST", "/v1.41/containers/create", "-d", "{}"));
    assertTrue(curl(0, "POST", "/v1.41/containers/create", "-d", "{}").startsWith("200 {"));
    assertEquals(
        List.of(
            "GET /v1.41/containers/json?all=1 0",
            "GET /v1.41/containers/abc/json 0",
            "POST /v1.41/containers/create 2"),
        received());
  }

  @Test
  void ambiguousAndSmuggledRequestsNeverReachTheBackend() throws Exception {
    start("allow uid 0\n", false);
    for (String request :
        List.of(
            "GET /containers%2Fjson HTTP/1.1\r\n\r\n",
            "GET /containers/../secrets HTTP/1.1\r\n\r\n",
            "GET //containers/json HTTP/1.1\r\n\r\n",
            "GET http://docker/containers/json HTTP/1.1\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            "GET /x HTTP/1.1\r\nX: a\nHost: b\r\n\r\n",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            "GET /x HTTP/1.1\r\nBig: " + "a".repeat(40_000) + "\r\n\r\n")) {
      String answer = exchange(request);
      assertTrue(
          answer.matches("(?s)HTTP/1.1 (400|431|505) .*\\{\"message\":\"peercred: bad request: .*"),
          answer);
    }
    assertEquals(List.of(), received());
  }

  @Test
  void aChunkedBodyCrossesWholeAndTheNextRequestIsDecidedAfterIt() throws Exception {
    start("allow uid 0 http POST /build\ndeny uid 0 http GET /secrets\n", false);
    String answers =
        exchange(
            "POST /build HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4\r\nGET \r\n9\r\n/secrets \r\n0\r\n\r\n"
                + "GET /secrets HTTP/1.1\r\n\r\n");
    assertTrue(answers.contains("HTTP/1.1 403"), answers);
    // The backend (which ignores chunked bodies) saw the POST only; the bytes inside its body
    // that look like a request were body, never a request of their own.
    assertEquals("POST /build 13", received().get(0));
    assertEquals(1, received().size(), received().toString());
  }

  @Test
  void anAttachBecomesAByteStreamOnlyAfterTheBackendAgrees() throws Exception {
    start("allow uid 0 http POST /containers/{id}/attach\n", false);
    try (UnixConnection c = UnixConnection.connect(proxySocket)) {
      c.setReadTimeout(Duration.ofSeconds(60));
      c.outputStream()
          .write(
              ("POST /v1.43/containers/abc/attach?stream=1&stdin=1 HTTP/1.1\r\nHost: docker\r\n"
                      + "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\nraw stdin bytes")
                  .getBytes(StandardCharsets.ISO_8859_1));
      byte[] head = new byte["HTTP/1.1 101 UPGRADED\r\n".length()];
      c.inputStream().readNBytes(head, 0, head.length);
      assertEquals("HTTP/1.1 101 UPGRADED\r\n", new String(head, StandardCharsets.ISO_8859_1));
      String rest = readUntil(c, "raw stdin bytes");
      assertTrue(rest.endsWith("\r\n\r\nraw stdin bytes"), rest); // the bytes held until the 101
      c.outputStream().write("GET /not/http HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertTrue(readUntil(c, "GET /not/http").endsWith("GET /not/http")); // a stream now
      c.shutdownOutput();
    }
  }

  private static String readUntil(UnixConnection c, String end) throws IOException {
    StringBuilder text = new StringBuilder();
    while (!text.toString().endsWith(end)) {
      int b = c.inputStream().read();
      if (b < 0) {
        throw new IOException("end of stream before '" + end + "' in: " + text);
      }
      text.append((char) b);
    }
    return text.toString();
  }

  @Test
  void sessionAndGrpcNeedARuleThatNamesThem() throws Exception {
    start("allow uid 0 http * /**\nallow uid 0 http POST /grpc\n", false);
    assertTrue(exchange("POST /session HTTP/1.1\r\n\r\n").startsWith("HTTP/1.1 403"));
    assertTrue(
        exchange("POST /grpc HTTP/1.1\r\nConnection: close\r\n\r\n").startsWith("HTTP/1.1 200"));
    assertEquals(List.of("POST /grpc 0"), received());
  }

  @Test
  void containerCreationIsDecidedByItsBody() throws Exception {
    start("allow uid 0 http POST /containers/create body unprivileged\n", false);
    String create = "POST /v1.43/containers/create HTTP/1.1\r\nConnection: close\r\n";
    String plain = "{\"Image\":\"bb\",\"HostConfig\":{\"Binds\":[]}}";
    assertTrue(
        exchange(create + "Content-Length: " + plain.length() + "\r\n\r\n" + plain)
            .startsWith("HTTP/1.1 200"));
    String privileged = "{\"Image\":\"bb\",\"HostConfig\":{\"privileged\":true}}";
    String refused =
        exchange(create + "Content-Length: " + privileged.length() + "\r\n\r\n" + privileged);
    assertTrue(refused.startsWith("HTTP/1.1 403"), refused);
    assertTrue(refused.contains("HostConfig.Privileged"), refused);
    String chunked = "{\"HostConfig\":{\"Binds\":[\"/:/host\"]}}";
    String chunkedRequest =
        create
            + "Transfer-Encoding: chunked\r\n\r\n"
            + Integer.toHexString(chunked.length())
            + "\r\n"
            + chunked
            + "\r\n0\r\n\r\n";
    assertTrue(exchange(chunkedRequest).startsWith("HTTP/1.1 403"));
    String twice = "{\"HostConfig\":{\"Privileged\":false,\"PRIVILEGED\":true}}";
    String duplicate = exchange(create + "Content-Length: " + twice.length() + "\r\n\r\n" + twice);
    assertTrue(duplicate.startsWith("HTTP/1.1 403"), duplicate);
    assertTrue(duplicate.contains("cannot be checked"), duplicate);
    assertEquals(List.of("POST /v1.43/containers/create " + plain.length()), received());
  }

  @Test
  void auditOnlyForwardsEverythingAndRecordsWhatWouldHaveBeenDenied() throws Exception {
    start("allow uid 0 http GET /_ping\n", true);
    String answers =
        exchange(
            "GET /_ping HTTP/1.1\r\n\r\n"
                + "DELETE /containers/abc HTTP/1.1\r\n"
                + "Connection: close\r\n\r\n");
    assertEquals(2, answers.split("HTTP/1.1 200 OK").length - 1, answers);
    assertEquals(List.of("GET /_ping 0", "DELETE /containers/abc 0"), received());
    List<Map<String, Object>> audit = audit();
    assertEquals("allow", audit.get(0).get("decision"));
    assertEquals("would-deny", audit.get(1).get("decision"));
    assertEquals(true, audit.get(1).get("audit_only"));
  }

  @Test
  void auditOnlyRecordsWhatEachContainerCreationAskedOfTheHost() throws Exception {
    start("allow uid 0 http GET /_ping\n", true);
    String privileged = "{\"HostConfig\":{\"Privileged\":true}}";
    String plain = "{\"Image\":\"busybox\"}";
    String answers =
        exchange(
            "POST /v1.43/containers/create HTTP/1.1\r\nContent-Length: "
                + privileged.length()
                + "\r\n\r\n"
                + privileged
                + "POST /v1.43/containers/create HTTP/1.1\r\nContent-Length: "
                + plain.length()
                + "\r\nConnection: close\r\n\r\n"
                + plain);
    assertEquals(2, answers.split("HTTP/1.1 200 OK").length - 1, answers);
    assertEquals(
        List.of(
            "POST /v1.43/containers/create " + privileged.length(),
            "POST /v1.43/containers/create " + plain.length()),
        received());
    List<Map<String, Object>> audit = audit();
    assertEquals(List.of("HostConfig.Privileged"), audit.get(0).get("host_access"));
    assertEquals(List.of(), audit.get(1).get("host_access"));
    assertEquals("would-deny", audit.get(1).get("decision"));
  }
}
