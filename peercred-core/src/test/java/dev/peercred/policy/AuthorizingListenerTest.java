package dev.peercred.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.testing.ChildProcess;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The authorizing listener with real clients as other users: who gets through, what refused peers
 * read, and the audit trail (log lines and JFR events) of every decision.
 */
@Timeout(300)
class AuthorizingListenerTest {
  @TempDir Path dir;

  private final List<String> auditLines = new CopyOnWriteArrayList<>();
  private final Logger julAudit = Logger.getLogger(Audit.LOGGER_NAME); // held: JUL keeps weak refs
  private final Handler handler =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          auditLines.add(record.getLevel() + " " + record.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeAll
  static void tools() {
    Peers.assumeTools();
  }

  @BeforeEach
  void captureAudit() {
    julAudit.addHandler(handler);
    julAudit.setLevel(Level.ALL);
  }

  @AfterEach
  void releaseAudit() {
    julAudit.removeHandler(handler);
  }

  /** Echoes one line back, then closes. */
  private static void echoOnce(UnixConnection connection) {
    try (connection) {
      byte[] buffer = new byte[1024];
      int n = connection.inputStream().read(buffer);
      if (n > 0) {
        connection.writeFully(buffer, 0, n);
      }
    } catch (IOException e) {
      // the test's client checks what it read
    }
  }

  /** Accepts (and so refuses, the listener being an authorizing one) on a thread of its own. */
  private static void acceptInBackground(AuthorizingListener listener) {
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                listener.accept().close();
              } catch (IOException e) {
                // closed at the end of the test
              }
            });
  }

  @Test
  void handsOutAllowedConnectionsAndRefusesOthersWithTheMessage() throws Exception {
    try (UnixListener raw = Peers.listen(dir);
        AuthorizingListener listener =
            AuthorizingListener.wrap(raw, Policy.uid(1001), AuthorizingListener.UNAUTHORIZED)) {
      Path socket = raw.localAddress().path().orElseThrow();
      try (ChildProcess refused = Peers.client(socket, 1002, 1002, List.of(), "hello\n");
          ChildProcess allowed = Peers.client(socket, 1001, 1001, List.of(), "hello\n")) {
        UnixConnection connection = listener.accept(); // skips the refused one if it came first
        assertEquals(1001, connection.peerCredentials().uid());
        Thread.ofVirtual().start(() -> echoOnce(connection));
        assertEquals("hello\n", Peers.output(allowed));
        if (listener.refusals() == 0) {
          // the allowed client connected first: accept once more to meet the refused one
          acceptInBackground(listener);
        }
        assertEquals("Unauthorized access\n", Peers.output(refused));
      }
      assertEquals(1, listener.refusals());
      assertTrue(
          auditLines.stream()
              .anyMatch(
                  l ->
                      l.startsWith("WARNING connection DENY ")
                          && l.contains(" uid=1002 ")
                          && l.contains(" gid=1002 ")
                          && l.contains(" pid=")
                          // a uid check reads no process, and neither does its audit record
                          && l.contains(" exe=? ")
                          && l.contains("reason=\"uid 1001 does not match uid 1002\"")),
          auditLines.toString());
      assertTrue(
          auditLines.stream()
              .anyMatch(l -> l.startsWith("INFO connection ALLOW ") && l.contains(" uid=1001 ")),
          auditLines.toString());
    }
  }

  @Test
  void theAuditShowsTheExecutableWhenThePolicyLookedAtIt() throws Exception {
    Policy notSomeTool = Policy.not(Policy.executable(Path.of("/nonexistent/tool")));
    try (UnixListener raw = Peers.listen(dir);
        AuthorizingListener listener =
            AuthorizingListener.wrap(raw, Policy.allOf(Policy.uid(1001), notSomeTool))) {
      Path socket = raw.localAddress().path().orElseThrow();
      ChildProcess client = Peers.client(socket, 1001, 1001, List.of(), "");
      listener.accept().close();
      Peers.output(client);
    }
    assertTrue(
        auditLines.stream()
            .anyMatch(
                l -> l.startsWith("INFO connection ALLOW ") && l.contains(" exe=/usr/bin/python3")),
        auditLines.toString());
  }

  @Test
  void aPolicyThatThrowsRefusesTheConnection() throws Exception {
    Policy broken =
        peer -> {
          throw new IllegalStateException("policy bug");
        };
    try (UnixListener raw = Peers.listen(dir);
        AuthorizingListener listener =
            AuthorizingListener.wrap(raw, broken, AuthorizingListener.UNAUTHORIZED)) {
      Path socket = raw.localAddress().path().orElseThrow();
      try (ChildProcess refused = Peers.client(socket, 1001, 1001, List.of(), "")) {
        acceptInBackground(listener);
        assertEquals("Unauthorized access\n", Peers.output(refused));
      }
      assertEquals(1, listener.refusals());
      assertTrue(
          auditLines.stream()
              .anyMatch(l -> l.contains("connection ERROR ") && l.contains("policy bug")),
          auditLines.toString());
    }
  }

  @Test
  void refusedWithoutAMessageReadsEndOfStream() throws Exception {
    try (UnixListener raw = Peers.listen(dir);
        AuthorizingListener listener = AuthorizingListener.wrap(raw, Policy.root())) {
      Path socket = raw.localAddress().path().orElseThrow();
      try (ChildProcess refused = Peers.client(socket, 1001, 1001, List.of(), "")) {
        acceptInBackground(listener);
        assertEquals("", Peers.output(refused));
      }
      assertEquals(1, listener.refusals());
    }
  }

  @Test
  void decisionsAreRecordedAsJfrEvents() throws Exception {
    Path jfr = dir.resolve("audit.jfr");
    CommandPolicy commands =
        CommandPolicy.builder()
            .command("get", Policy.anyone())
            .command("set", Policy.uid(0))
            .build();
    try (Recording recording = new Recording()) {
      recording.enable("dev.peercred.ConnectionDecision");
      recording.enable("dev.peercred.CommandDecision");
      recording.start();
      try (UnixListener raw = Peers.listen(dir);
          AuthorizingListener listener = AuthorizingListener.wrap(raw, Policy.uid(1001))) {
        Path socket = raw.localAddress().path().orElseThrow();
        try (ChildProcess client = Peers.client(socket, 1001, 1001, List.of(), "")) {
          try (UnixConnection connection = listener.accept()) {
            assertTrue(commands.authorize(connection, "get").allowed());
            assertTrue(!commands.authorize(connection, "set").allowed());
            assertTrue(!commands.authorize(connection, "drop").allowed());
          }
          Peers.output(client);
        }
      }
      recording.stop();
      recording.dump(jfr);
    }
    List<RecordedEvent> events = RecordingFile.readAllEvents(jfr);
    RecordedEvent connection =
        events.stream()
            .filter(e -> e.getEventType().getName().equals("dev.peercred.ConnectionDecision"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no ConnectionDecision in " + events));
    assertEquals(1001, connection.getLong("uid"));
    assertEquals(1001, connection.getLong("gid"));
    assertTrue(connection.getLong("pid") > 0);
    assertTrue(connection.getBoolean("allowed"));
    assertEquals("ALLOW", connection.getString("outcome"));
    assertEquals(null, connection.getString("executable"), "a uid check reads no executable");
    assertTrue(connection.getString("endpoint").endsWith("s.sock"));
    List<RecordedEvent> commandEvents =
        events.stream()
            .filter(e -> e.getEventType().getName().equals("dev.peercred.CommandDecision"))
            .toList();
    assertEquals(3, commandEvents.size(), commandEvents.toString());
    assertEquals(
        List.of("get ALLOW", "set DENY", "drop DENY"),
        commandEvents.stream()
            .sorted(java.util.Comparator.comparing(RecordedEvent::getStartTime))
            .map(e -> e.getString("command") + " " + e.getString("outcome"))
            .toList());
    assertTrue(commandEvents.stream().allMatch(e -> e.getLong("uid") == 1001));
    assertTrue(
        auditLines.stream()
            .anyMatch(l -> l.startsWith("WARNING command set DENY ") && l.contains(" uid=1001 ")),
        auditLines.toString());
  }

  @Test
  void auditLinesEscapeControlCharacters() {
    assertEquals("a\\x0ab\\\"c", Audit.sanitize("a\nb\"c"));
  }
}
