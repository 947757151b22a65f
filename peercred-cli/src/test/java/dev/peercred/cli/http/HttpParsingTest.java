package dev.peercred.cli.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How the guard reads requests, responses and paths: strictly, refusing what is ambiguous. */
class HttpParsingTest {
  static ByteBuffer bytes(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  static Request request(String text) throws HttpException {
    ByteBuffer b = bytes(text);
    int end = HttpHead.end(b, 0);
    assertTrue(end > 0, "no complete head in " + text);
    return Request.parse(b, end);
  }

  static int refusal(String text) {
    return assertThrows(HttpException.class, () -> request(text)).status();
  }

  @Test
  void canonicalPathsDropTheVersionPrefixAndDecodeAsTheEngineDoes() throws HttpException {
    assertEquals("/containers/json", CanonicalPath.of("/v1.41/containers/json?all=1").route());
    assertEquals("/v1.41/containers/json", CanonicalPath.of("/v1.41/containers/json").path());
    assertEquals("/containers/json", CanonicalPath.of("/v4.0.0/libpod/containers/json").route());
    assertEquals("/containers/json", CanonicalPath.of("/libpod/containers/json").route());
    // what the Engine's router takes for a version ([0-9.]+), and Podman's ([0-9][0-9A-Za-z.-]*)
    assertEquals("/containers/json", CanonicalPath.of("/v1.41.0.0/containers/json").route());
    assertEquals("/containers/json", CanonicalPath.of("/v1.41./containers/json").route());
    assertEquals("/containers/json", CanonicalPath.of("/v.1/containers/json").route());
    assertEquals(
        "/containers/json", CanonicalPath.of("/v4.0.0-rc1/libpod/containers/json").route());
    assertEquals("/vx/containers/json", CanonicalPath.of("/vx/containers/json").route());
    assertEquals("/containers/json", CanonicalPath.of("/contain%65rs/json").route());
    assertEquals("/_ping", CanonicalPath.of("/_ping").route());
    assertEquals(List.of(), CanonicalPath.of("/").segments());
    assertEquals(List.of("v1"), CanonicalPath.of("/v1/v1").segments()); // one prefix only
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/containers%2Fjson",
        "/containers%2fjson",
        "/%2e%2e/etc",
        "/containers/%2E",
        "/a%5Cb",
        "/containers/../images/json",
        "/containers/./json",
        "//containers/json",
        "/containers//json",
        "/containers/json/",
        "/a%00b",
        "/a%0d%0ab",
        "/a%zz",
        "/a%4",
        "/a%c3",
        "http://localhost/containers/json",
        "containers/json",
        "/a#frag"
      })
  void ambiguousTargetsAreRefused(String target) {
    assertEquals(400, assertThrows(HttpException.class, () -> CanonicalPath.of(target)).status());
  }

  @Test
  void fieldNamesMatchInAnyCaseOfTheirLettersAndNothingElse() throws HttpException {
    Request mixed =
        request(
            "POST /build HTTP/1.1\r\ncOnTeNt-lEnGtH: 7\r\nCONNECTION: keep-alive , Close\r\n\r\n");
    assertEquals(HttpHead.Framing.length(7), mixed.framing());
    assertFalse(mixed.keepsAlive()); // "Close" is one of the tokens, trimmed, in any case
    // Only letters have a case: '_' is not '-', '^' is not '~' (the same bit apart).
    Request lookalikes =
        request("POST /build HTTP/1.1\r\nContent_Length: 7\r\nHos^: a\r\nHos~: b\r\n\r\n");
    assertFalse(lookalikes.framing().hasBody());
    assertEquals("a", lookalikes.head().single("Hos^"));
    assertEquals(List.of(), lookalikes.head().values("Host"));
    assertEquals(400, refusal("GET / HTTP/1.1\r\nhost: a\r\nHOST: b\r\n\r\n"));
  }

  @Test
  void fieldValuesLoseOnlyTheirSpacesAndTabs() throws HttpException {
    Request request = request("GET / HTTP/1.1\r\nX-Note: \t a b \t\r\n\r\n");
    assertEquals("a b", request.head().first("x-note"));
    assertEquals(400, refusal("GET / HTTP/1.1\r\nX-Note: a\u000b\r\n\r\n"));
  }

  @Test
  void requestHeadsGiveMethodPathAndFraming() throws HttpException {
    Request get = request("GET /v1.43/_ping HTTP/1.1\r\nHost: docker\r\n\r\n");
    assertEquals("GET", get.method());
    assertEquals("/_ping", get.path().route());
    assertFalse(get.framing().hasBody());
    assertTrue(get.keepsAlive());
    Request post =
        request("POST /containers/create HTTP/1.1\r\nContent-Length: 12\r\nHost: x\r\n\r\n");
    assertEquals(HttpHead.Framing.length(12), post.framing());
    Request chunked = request("POST /build HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n");
    assertEquals(HttpHead.Framing.CHUNKED, chunked.framing());
    Request upgrade =
        request(
            "POST /containers/x/attach?stream=1 HTTP/1.1\r\nConnection: Upgrade\r\n"
                + "Upgrade: tcp\r\n\r\n");
    assertTrue(upgrade.upgrade());
    assertFalse(request("GET / HTTP/1.0\r\n\r\n").keepsAlive());
    assertFalse(request("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keepsAlive());
  }

  @Test
  void smugglingShapesAreRefused() {
    assertEquals(400, refusal("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));
    assertEquals(400, refusal("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n"));
    assertEquals(400, refusal("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"));
    assertEquals(
        400, refusal("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"));
    assertEquals(
        400,
        refusal(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"));
    assertEquals(501, refusal("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"));
    assertEquals(400, refusal("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"));
    assertEquals(400, refusal("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n"));
    assertEquals(400, refusal("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n"));
    assertEquals(400, refusal("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n"));
    assertEquals(400, refusal("GET / HTTP/1.1\r\nX: a\nY: b\r\n\r\n"));
    assertEquals(400, refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
    assertEquals(400, refusal("GET  / HTTP/1.1\r\n\r\n"));
    assertEquals(400, refusal("GET http://x/ HTTP/1.1\r\n\r\n"));
    assertEquals(400, refusal("GET * HTTP/1.1\r\n\r\n"));
    assertEquals(400, refusal("CONNECT x:1 HTTP/1.1\r\n\r\n"));
    assertEquals(505, refusal("PRI * HTTP/2.0\r\n\r\n"));
    assertEquals(400, refusal("\r\nGET / HTTP/1.1\r\n\r\n"));
    assertEquals(400, refusal("GET /\u00e9 HTTP/1.1\r\n\r\n"));
  }

  @Test
  void theEndOfAHeadIsFoundAcrossReads() {
    ByteBuffer part = bytes("GET / HTTP/1.1\r\nHost: x\r\n\r");
    assertEquals(-1, HttpHead.end(part, 0));
    ByteBuffer whole = bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET");
    assertEquals(whole.limit() - 3, HttpHead.end(whole, part.limit()));
  }

  @Test
  void responsesTellWhereTheyEnd() throws HttpException {
    Request head = request("HEAD /_ping HTTP/1.1\r\n\r\n");
    Request get = request("GET /_ping HTTP/1.1\r\n\r\n");
    Response ok = response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
    assertEquals(HttpHead.Framing.length(2), ok.framing());
    assertTrue(ok.hasNoBody(head));
    assertFalse(ok.hasNoBody(get));
    assertTrue(response("HTTP/1.1 204 No Content\r\n\r\n").hasNoBody(get));
    assertTrue(response("HTTP/1.1 100 Continue\r\n\r\n").isInterim());
    assertTrue(response("HTTP/1.1 101 UPGRADED\r\nUpgrade: tcp\r\n\r\n").switchesToStream());
    assertTrue(
        response("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n")
            .switchesToStream());
    assertFalse(
        response(
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                    + "Content-Length: 0\r\n\r\n")
            .switchesToStream());
    assertThrows(HttpException.class, () -> response("HTTP/2 200\r\n\r\n"));
    assertThrows(
        HttpException.class,
        () -> response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
  }

  static Response response(String text) throws HttpException {
    ByteBuffer b = bytes(text);
    return Response.parse(b, HttpHead.end(b, 0));
  }

  @Test
  void chunkedBodiesEndWhereTheyEnd() throws HttpException {
    String body = "4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nTrailer: x\r\n\r\n";
    ByteBuffer b = bytes(body + "GET / HTTP/1.1\r\n");
    ChunkedBody chunked = new ChunkedBody();
    int total = 0;
    for (int i = 0; i < b.limit() && !chunked.isDone(); i++) { // one byte at a time
      total += chunked.follow(b, i, 1);
    }
    assertTrue(chunked.isDone());
    assertEquals(body.length(), total);
    ChunkedBody atOnce = new ChunkedBody();
    assertEquals(body.length(), atOnce.follow(b, 0, b.limit()));
    for (String bad :
        List.of(
            "x\r\n",
            "4\nWiki\r\n",
            "4\r\nWikiX\r\n",
            "1234567890abcdef0\r\n",
            "0\r\nBad\nTrailer\r\n\r\n",
            "4\r\nWiki\n")) {
      assertThrows(
          HttpException.class, () -> new ChunkedBody().follow(bytes(bad), 0, bad.length()), bad);
    }
  }

  @Test
  void containerBodiesAreJudgedAsTheEngineReadsThem() throws Exception {
    assertEquals(List.of(), access("{\"Image\":\"bb\",\"HostConfig\":{\"Privileged\":false}}"));
    assertEquals(List.of(), access("{\"Image\":\"bb\"}"));
    assertEquals(
        List.of("HostConfig.Privileged"), access("{\"HostConfig\":{\"Privileged\":true}}"));
    assertEquals(
        List.of("HostConfig.Privileged"), access("{\"hostconfig\":{\"PRIVILEGED\":true}}"));
    assertEquals(
        List.of("HostConfig.Privileged"),
        access("{\"HostConfig\":{\"\\u0050rivileged\":true}}")); // escapes decode
    assertEquals(
        List.of("HostConfig.Binds"), access("{\"HostConfig\":{\"Bind\u017f\":[\"/:/h\"]}}"));
    assertEquals(
        List.of(
            "HostConfig.CapAdd", "HostConfig.PidMode=host", "HostConfig.Mounts[0] of type bind"),
        access(
            "{\"HostConfig\":{\"CapAdd\":[\"SYS_ADMIN\"],\"PidMode\":\"host\","
                + "\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/\",\"Target\":\"/h\"}]}}"));
    assertEquals(
        List.of("HostConfig.Mounts[0].VolumeOptions.DriverConfig.Options"),
        access(
            "{\"HostConfig\":{\"Mounts\":[{\"Type\":\"volume\",\"Target\":\"/h\","
                + "\"VolumeOptions\":{\"DriverConfig\":{\"Name\":\"local\","
                + "\"Options\":{\"type\":\"none\",\"o\":\"bind\",\"device\":\"/etc\"}}}}]}}"));
    assertEquals(
        List.of("HostConfig.SecurityOpt seccomp=unconfined"),
        access("{\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\"]}}"));
    assertEquals(
        List.of(),
        access(
            "{\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges\",\"no-new-privileges=true\","
                + "\"no-new-privileges:false\"],\"CgroupParent\":\"\",\"VolumesFrom\":[],"
                + "\"NetworkMode\":\"none\",\"IpcMode\":\"shareable\"}}"));
    for (String option :
        List.of(
            "label=type:spc_t",
            "label:disable",
            "disable",
            "apparmor=unconfined",
            "seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\"}",
            "systempaths=unconfined",
            "writable-cgroups=true",
            "no-new-privileges=maybe",
            "No-New-Privileges")) {
      List<String> flagged = access("{\"HostConfig\":{\"SecurityOpt\":[\"" + option + "\"]}}");
      assertEquals(1, flagged.size(), option);
      assertTrue(flagged.get(0).startsWith("HostConfig.SecurityOpt "), flagged.get(0));
    }
    assertEquals(
        List.of(
            "HostConfig.VolumesFrom",
            "HostConfig.CgroupParent",
            "HostConfig.NetworkMode=container:web",
            "HostConfig.PidMode=ns:/proc/1/ns/pid",
            "HostConfig.IpcMode=HOST"),
        access(
            "{\"HostConfig\":{\"VolumesFrom\":[\"web:ro\"],\"CgroupParent\":\"/\","
                + "\"NetworkMode\":\"container:web\",\"PidMode\":\"ns:/proc/1/ns/pid\","
                + "\"IpcMode\":\"HOST\"}}"));
    for (String unreadable :
        List.of(
            "",
            "[]",
            "{\"HostConfig\":{\"Privileged\":false,\"privileged\":true}}",
            "{\"HostConfig\":{\"Privileged\":false},\"HostConfig\":{\"Privileged\":true}}",
            "{\"HostConfig\":{\"Privileged\":\"true\"}}",
            "{\"HostConfig\":[]}",
            "{\"Image\":\"bb\"} {}",
            "{\"Image\":",
            "[".repeat(100) + "]".repeat(100))) {
      assertThrows(ContainerBody.UnreadableException.class, () -> access(unreadable), unreadable);
    }
  }

  static List<String> access(String json) throws ContainerBody.UnreadableException {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    return ContainerBody.hostAccess(bytes, bytes.length);
  }
}
