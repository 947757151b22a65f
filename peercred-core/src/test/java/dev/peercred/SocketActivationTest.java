package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.SocketActivationException.Reason;
import dev.peercred.testing.Await;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Tools;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Socket activation end to end: a new JVM running {@link ActivationProbe} is started by {@code
 * systemd-socket-activate}, or by a small Python launcher that passes any kind of descriptor and
 * any variables, and reports what it got.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SocketActivationTest {
  private static final Path SYSTEMD_SOCKET_ACTIVATE = Path.of("/usr/bin/systemd-socket-activate");

  @TempDir Path dir;

  /**
   * The probe's command line. Its class path is this module's classes only: the descriptor numbers
   * the JVM takes for its own files must not depend on how many jars the tests use.
   */
  private static List<String> probeCommand(String how) {
    return JavaCommand.main(ActivationProbe.class)
        .classPath(
            List.of(
                Path.of("target/classes").toAbsolutePath().toString(),
                Path.of("target/test-classes").toAbsolutePath().toString()))
        .args(how)
        .toList();
  }

  /**
   * Once the probe has taken its sockets (it prints its report, ending with the {@code jvm-getenv}
   * line, before it accepts), connects to it and returns everything it writes.
   */
  private static String askProbe(Path socket, ChildProcess probe) throws Exception {
    probe.awaitStdout("jvm-getenv LISTEN_PID=");
    return connectAndRead(socket, probe);
  }

  private static String connectAndRead(Path socket, ChildProcess probe) throws Exception {
    try (UnixConnection connection = UnixConnection.connect(socket)) {
      connection.setReadTimeout(Await.TIMEOUT);
      String report = new String(connection.inputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(!report.isEmpty(), "the probe wrote nothing\n" + probe.describe());
      return report;
    }
  }

  private static String value(String report, String key) {
    for (String line : report.split("\n")) {
      if (line.startsWith(key + "=")) {
        return line.substring(key.length() + 1);
      }
      if (line.startsWith(key + " ")) {
        return line.substring(key.length() + 1);
      }
    }
    throw new AssertionError("no '" + key + "' in report:\n" + report);
  }

  private static void assertReport(String report, Path socket, String names) {
    assertEquals("true", value(report, "inherited"), report);
    assertEquals(names, value(report, "names"), report);
    assertEquals(socket.toAbsolutePath().toString(), value(report, "address"), report);
    assertEquals(String.valueOf(ProcessHandle.current().pid()), value(report, "peer-pid"), report);
    assertEquals(
        String.valueOf(PeerCredentials.ofCurrentProcess().uid()),
        value(report, "peer-uid"),
        report);
    assertEquals("ALREADY_CLAIMED", value(report, "second-take"), report);
    // unsetenv(3) reaches children started with the inherited environment ...
    assertEquals("LISTEN_PID=unset LISTEN_FDS=unset", value(report, "child-env"), report);
    // ... but not the JVM's start-up snapshot, which environment() copies; removeVariables does.
    String selfPid = value(report, "self-pid");
    assertTrue(value(report, "child-env-copied").startsWith("LISTEN_PID=" + selfPid), report);
    assertEquals("LISTEN_PID=unset LISTEN_FDS=unset", value(report, "child-env-stripped"), report);
    assertEquals(selfPid, value(report, "jvm-getenv LISTEN_PID"), report);
  }

  @Test
  void systemdSocketActivateHandsANamedListener() throws Exception {
    Tools.require(SYSTEMD_SOCKET_ACTIVATE);
    Path socket = dir.resolve("activated.sock");
    List<String> command =
        new ArrayList<>(
            List.of(SYSTEMD_SOCKET_ACTIVATE.toString(), "-l", socket.toString(), "--fdname=web"));
    command.addAll(probeCommand("name:web"));
    try (ChildProcess process = ChildProcess.builder(command).mergeStderr().start()) {
      // It listens, and starts the probe when the first connection comes.
      process.awaitStdout("Listening on " + socket);
      String report = connectAndRead(socket, process);
      assertReport(report, socket, "web");
      process.assertExit(0);
      assertTrue(
          Files.exists(socket), "the listener never removes the service manager's socket file");
    }
  }

  // --- a launcher of our own: any descriptor, any variables -------------------------------------

  private static final String LAUNCHER =
      """
      import fcntl, os, socket, sys
      # launcher.py SPECS PID FDS NAMES -- COMMAND...
      # SPECS: comma-separated unix-listen:PATH, unix-stream, unix-dgram, tcp-listen, udp, file:PATH
      specs, pid, fds, names = sys.argv[1:5]
      command = sys.argv[6:]
      objects = []
      for spec in [s for s in specs.split(",") if s]:
          kind, _, arg = spec.partition(":")
          if kind == "unix-listen":
              o = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); o.bind(arg); o.listen(16)
          elif kind == "unix-stream":
              o = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
          elif kind == "unix-dgram":
              o = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
          elif kind == "tcp-listen":
              o = socket.socket(socket.AF_INET, socket.SOCK_STREAM); o.bind(("127.0.0.1", 0)); o.listen(16)
          elif kind == "udp":
              o = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
          elif kind == "file":
              o = open(arg, "w")
          else:
              sys.exit("unknown spec " + spec)
          objects.append(o)
      high = [fcntl.fcntl(o.fileno(), fcntl.F_DUPFD_CLOEXEC, 100) for o in objects]
      for i, fd in enumerate(high):
          os.dup2(fd, 3 + i, inheritable=True)
      env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
      values = {"self": str(os.getpid()), "other": str(os.getpid() + 100000), "count": str(len(objects))}
      for key, value in (("LISTEN_PID", pid), ("LISTEN_FDS", fds), ("LISTEN_FDNAMES", names)):
          if value != "unset":
              env[key] = values.get(value, value)
      os.execve(command[0], command, env)
      """;

  private ChildProcess launch(String specs, String pid, String fds, String names, String how)
      throws IOException {
    Path python = Tools.python3();
    Path launcher = dir.resolve("launcher.py");
    Files.writeString(launcher, LAUNCHER);
    List<String> command =
        new ArrayList<>(
            List.of(python.toString(), launcher.toString(), specs, pid, fds, names, "--"));
    command.addAll(probeCommand(how));
    return ChildProcess.builder(command).mergeStderr().start();
  }

  /** Runs a launch that must fail, and returns the probe's {@code error} line. */
  private String failure(String specs, String pid, String fds, String names, String how)
      throws Exception {
    try (ChildProcess process = launch(specs, pid, fds, names, how)) {
      String out = process.assertExit(3).stdout();
      // Even when they are wrong, the variables are removed from what children inherit.
      assertTrue(out.contains("child-env LISTEN_PID=unset LISTEN_FDS=unset"), out);
      for (String line : out.split("\n")) {
        if (line.startsWith("error ")) {
          return line.substring(6);
        }
      }
      throw new AssertionError("no error line:\n" + out);
    }
  }

  @Test
  void launcherHandsListenersByIndexAndName() throws Exception {
    Path a = dir.resolve("a.sock");
    Path b = dir.resolve("b.sock");
    try (ChildProcess process =
        launch(
            "unix-listen:" + a + ",unix-listen:" + b,
            "self",
            "count",
            "first:second",
            "name:second")) {
      String report = askProbe(b, process);
      assertReport(report, b, "first,second");
      process.assertExit(0);
    }
    Path c = dir.resolve("c.sock");
    try (ChildProcess byIndex = launch("unix-listen:" + c, "self", "count", "unset", "index:0")) {
      String report = askProbe(c, byIndex);
      assertReport(report, c, SocketActivation.UNKNOWN_NAME);
    }
  }

  @Test
  void wrongListenPidIsRefused() throws Exception {
    String error =
        failure("unix-listen:" + dir.resolve("x.sock"), "other", "count", "unset", "all");
    assertTrue(error.startsWith("WRONG_PID "), error);
  }

  @Test
  void tcpSocketIsRefused() throws Exception {
    String error = failure("tcp-listen", "self", "count", "unset", "all");
    assertTrue(error.startsWith("WRONG_SOCKET_TYPE "), error);
    assertTrue(error.contains("AF_INET SOCK_STREAM socket (TCP)"), error);
  }

  @Test
  void datagramSocketsAreRefused() throws Exception {
    String udp = failure("udp", "self", "count", "unset", "index:0");
    assertTrue(udp.startsWith("WRONG_SOCKET_TYPE ") && udp.contains("(UDP)"), udp);
    String unix = failure("unix-dgram", "self", "count", "unset", "index:0");
    assertTrue(unix.startsWith("WRONG_SOCKET_TYPE ") && unix.contains("AF_UNIX SOCK_DGRAM"), unix);
  }

  @Test
  void nonListeningSocketIsRefused() throws Exception {
    String error = failure("unix-stream", "self", "count", "unset", "all");
    assertTrue(error.startsWith("NOT_LISTENING "), error);
  }

  @Test
  void descriptorThatIsNoSocketOrNotOpenIsRefused() throws Exception {
    String file = failure("file:" + dir.resolve("plain"), "self", "count", "unset", "all");
    assertTrue(file.startsWith("NOT_A_SOCKET ") && file.contains("not a socket"), file);
    // LISTEN_FDS claims two descriptors, only one was passed: every one is checked before any is
    // taken. The JVM has already reused descriptor 4 for a file of its own by then, so the check,
    // not the descriptor's absence, is what refuses it.
    String missing = failure("unix-listen:" + dir.resolve("y.sock"), "self", "2", "unset", "all");
    assertTrue(missing.startsWith("NOT_A_SOCKET descriptor 4 "), missing);
  }

  @Test
  void malformedEnvironmentIsRefused() throws Exception {
    String error = failure("unix-listen:" + dir.resolve("z.sock"), "self", "1x", "unset", "all");
    assertTrue(
        error.startsWith("MALFORMED_ENVIRONMENT ") && error.contains("LISTEN_FDS='1x'"), error);
    String names = failure("unix-listen:" + dir.resolve("w.sock"), "self", "count", "a:b", "all");
    assertTrue(names.startsWith("MALFORMED_ENVIRONMENT ") && names.contains("2 names"), names);
  }

  // --- parsing, in this process ------------------------------------------------------------------

  private static Reason parseFailure(Map<String, String> environment) {
    return assertThrows(
            SocketActivationException.class, () -> SocketActivation.parse(environment, 42))
        .reason();
  }

  @Test
  void parsingIsStrict() throws Exception {
    assertEquals(List.of(), SocketActivation.parse(Map.of(), 42));
    assertEquals(
        List.of("a", "b"),
        SocketActivation.parse(
            Map.of("LISTEN_PID", "42", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "a:b"), 42));
    assertEquals(
        List.of("unknown"),
        SocketActivation.parse(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "1"), 42));
    assertEquals(
        List.of(), SocketActivation.parse(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "0"), 42));
    Reason malformed = Reason.MALFORMED_ENVIRONMENT;
    assertEquals(Reason.WRONG_PID, parseFailure(Map.of("LISTEN_PID", "43", "LISTEN_FDS", "1")));
    for (String bad : List.of("", "+1", "-1", " 1", "1 ", "0x1", "1.0", "99999999999", "٣")) {
      assertEquals(
          malformed,
          parseFailure(Map.of("LISTEN_PID", "42", "LISTEN_FDS", bad)),
          "LISTEN_FDS=" + bad);
      assertEquals(
          malformed,
          parseFailure(Map.of("LISTEN_PID", bad, "LISTEN_FDS", "1")),
          "LISTEN_PID=" + bad);
    }
    assertEquals(malformed, parseFailure(Map.of("LISTEN_PID", "0", "LISTEN_FDS", "1")));
    assertEquals(malformed, parseFailure(Map.of("LISTEN_FDS", "1")));
    assertEquals(malformed, parseFailure(Map.of("LISTEN_PID", "42")));
    assertEquals(malformed, parseFailure(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "100000")));
    assertEquals(
        malformed,
        parseFailure(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "a")));
    assertEquals(
        malformed,
        parseFailure(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "a::b")));
    assertEquals(
        malformed,
        parseFailure(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "2", "LISTEN_FDNAMES", "a:")));
    assertEquals(
        malformed,
        parseFailure(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "1", "LISTEN_FDNAMES", "a\tb")));
    assertEquals(
        malformed,
        parseFailure(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "0", "LISTEN_FDNAMES", "a")));
  }

  @Test
  void thisProcessWasNotActivated() throws Exception {
    // Surefire starts the test JVM without the variables.
    Assumptions.assumeTrue(
        System.getenv("LISTEN_FDS") == null, "this JVM was started with LISTEN_FDS");
    assertEquals(false, SocketActivation.isInherited());
    assertEquals(List.of(), SocketActivation.listeners());
    var e = assertThrows(SocketActivationException.class, () -> SocketActivation.listener(0));
    assertEquals(Reason.NOT_FOUND, e.reason());
    assertEquals(
        Reason.NOT_FOUND,
        assertThrows(SocketActivationException.class, () -> SocketActivation.listener("web"))
            .reason());
    assertThrows(IllegalArgumentException.class, () -> SocketActivation.listener(-1));
  }
}
