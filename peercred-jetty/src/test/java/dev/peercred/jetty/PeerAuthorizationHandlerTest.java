package dev.peercred.jetty;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.policy.Audit;
import dev.peercred.policy.Policy;
import dev.peercred.testing.LogLines;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A real Jetty 12 server on a Unix socket, called by curl as root and as other users. */
@Timeout(120)
class PeerAuthorizationHandlerTest {
  @TempDir Path dir;

  private static final long ME = PeerCredentials.ofCurrentProcess().uid();

  @Test
  void theCallerIsKnownAndThePolicyAnswers403ToOthers() throws Exception {
    Curl.assumeOtherUsers();
    Path socket = dir.resolve("http.sock");
    try (LogLines capture = LogLines.capture(Audit.LOGGER_NAME)) {
      try (TestServer server = new TestServer(socket, Policy.uid(ME, 1000), true)) {
        Curl.Reply mine = Curl.get(socket, "/anything");
        assertEquals(200, mine.status(), mine.toString());
        assertTrue(mine.body().startsWith("uid=" + ME + " pid="), mine.body());

        Curl.Reply allowed = Curl.getAs(1000, 1000, socket, "/anything");
        assertEquals(200, allowed.status(), allowed.toString());
        assertTrue(allowed.body().startsWith("uid=1000 pid="), allowed.body());

        Curl.Reply denied = Curl.getAs(65534, 65534, socket, "/secret");
        assertEquals(403, denied.status(), denied.toString());
        assertTrue(denied.body().contains("uid=65534"), denied.body());
        assertTrue(denied.body().contains("GET /secret"), denied.body());
      } // the server has stopped: every decision is recorded
      List<String> audit = capture.lines();
      assertTrue(
          audit.stream()
              .anyMatch(
                  line ->
                      line.startsWith("command GET /secret DENY")
                          && line.contains("uid=65534")
                          && line.contains("endpoint=" + socket)),
          audit.toString());
      assertTrue(audit.stream().noneMatch(line -> line.contains("ALLOW")), audit.toString());
    }
  }

  @Test
  void theCallerPidIsTheProcessThatConnected() throws Exception {
    Path socket = dir.resolve("pid.sock");
    try (TestServer server = new TestServer(socket, Policy.anyone(), true)) {
      List<String> bodies = twoRequestsOnOneConnection(socket);
      String expected = "uid=" + ME + " pid=" + ProcessHandle.current().pid() + " ";
      assertTrue(bodies.get(0).startsWith(expected), bodies.toString());
      // Both requests of one connection share its identity, read once.
      assertEquals(identityOf(bodies.get(0)), identityOf(bodies.get(1)));
      awaitNoIdentities(server.listener);
    }
  }

  @Test
  void eachConnectionHasItsOwnIdentityAndReleasesItOnClose() throws Exception {
    Path socket = dir.resolve("many.sock");
    try (TestServer server = new TestServer(socket, Policy.anyone(), true)) {
      String first = twoRequestsOnOneConnection(socket).get(0);
      String second = twoRequestsOnOneConnection(socket).get(0);
      assertNotEquals(identityOf(first), identityOf(second));
      awaitNoIdentities(server.listener);
    }
  }

  @Test
  void aConnectorWithoutTheListenerGets403() throws Exception {
    Path socket = dir.resolve("bare.sock");
    try (TestServer server = new TestServer(socket, Policy.anyone(), false)) {
      Curl.Reply reply = Curl.get(socket, "/x");
      assertEquals(403, reply.status(), reply.toString());
      assertTrue(reply.body().contains("carries no caller identity"), reply.body());
    }
  }

  @Test
  void installingTwiceKeepsOneListener() throws Exception {
    Path socket = dir.resolve("twice.sock");
    try (TestServer server = new TestServer(socket, Policy.anyone(), true)) {
      assertEquals(server.listener, PeerIdentityListener.install(server.connector));
      assertEquals(1, server.connector.getBeans(PeerIdentityListener.class).size());
    }
  }

  @Test
  void withoutTheExportEveryConnectionIsClosedAndTheLogNamesTheOption() throws Exception {
    Path socket = dir.resolve("noexport.sock");
    List<String> command =
        List.of(
            ProcessHandle.current().info().command().orElse("java"),
            "--enable-native-access=ALL-UNNAMED",
            "-cp",
            System.getProperty("java.class.path"),
            TestServer.class.getName(),
            socket.toString());
    Path log = dir.resolve("server.log");
    Process server =
        new ProcessBuilder(command)
            .redirectError(log.toFile())
            .redirectOutput(ProcessBuilder.Redirect.PIPE)
            .start();
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("listening", out.readLine(), () -> read(log));
      Curl.Reply reply = Curl.get(socket, "/x");
      assertNotEquals(0, reply.exit(), reply.toString()); // no reply at all
      assertNotEquals(200, reply.status(), reply.toString());
      Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
      while (!read(log).contains("--add-exports java.base/sun.nio.ch=ALL-UNNAMED")
          && Instant.now().isBefore(deadline)) {
        Thread.onSpinWait();
      }
      assertTrue(read(log).contains("--add-exports java.base/sun.nio.ch=ALL-UNNAMED"), read(log));
    } finally {
      server.destroy();
      assertTrue(server.waitFor(20, TimeUnit.SECONDS));
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return e.toString();
    }
  }

  /** Two keep-alive requests on one connection of this process; returns the two bodies. */
  private static List<String> twoRequestsOnOneConnection(Path socket) throws IOException {
    try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      client.connect(UnixDomainSocketAddress.of(socket));
      String requests =
          "GET /a HTTP/1.1\r\n"
              + "Host: x\r\n\r\n"
              + "GET /b HTTP/1.1\r\n"
              + "Host: x\r\n"
              + "Connection: close\r\n\r\n";
      client.write(ByteBuffer.wrap(requests.getBytes(StandardCharsets.US_ASCII)));
      String replies =
          new String(Channels.newInputStream(client).readAllBytes(), StandardCharsets.UTF_8);
      Matcher bodies = Pattern.compile("uid=\\d+ pid=-?\\d+ identity=\\d+").matcher(replies);
      List<String> found = new ArrayList<>();
      while (bodies.find()) {
        found.add(bodies.group());
      }
      assertEquals(2, found.size(), replies);
      return found;
    }
  }

  private static String identityOf(String body) {
    return body.substring(body.indexOf("identity="));
  }

  private static void awaitNoIdentities(PeerIdentityListener listener) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
    while (listener.size() != 0 && Instant.now().isBefore(deadline)) {
      Thread.onSpinWait();
    }
    assertEquals(0, listener.size(), "identities still held after their connections closed");
  }
}
