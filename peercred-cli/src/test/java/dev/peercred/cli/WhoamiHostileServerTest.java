package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code peercred whoami} against servers that answer the probe with garbage: each gets one clear
 * line on standard error and exit code 76, never a stack trace, and the server's kernel identity is
 * still printed.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class WhoamiHostileServerTest {
  static final Duration T = Duration.ofSeconds(60);
  static final String PREFIX = "PEERCRED/1 ";

  @TempDir Path dir;

  /** A server thread that reads the probe, sends {@code reply}, then closes or holds the line. */
  final class HostileServer implements AutoCloseable {
    final Path socket = dir.resolve("hostile-" + System.nanoTime() + ".sock");
    final UnixListener listener;
    final Thread thread;
    final CountDownLatch release = new CountDownLatch(1);
    volatile byte[] received;

    HostileServer(byte[] reply, boolean holdOpen) throws IOException {
      listener = UnixListener.bind(socket);
      thread =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (UnixConnection client = listener.accept()) {
                      received = client.inputStream().readNBytes(WhoamiProtocol.PROBE.length);
                      try {
                        client.outputStream().write(reply);
                      } catch (IOException e) {
                        // the client stopped reading (a reply over its limit): expected
                      }
                      if (holdOpen) {
                        release.await();
                      }
                    } catch (IOException | InterruptedException e) {
                      // the listener was closed: the test is over
                    }
                  });
    }

    @Override
    public void close() throws InterruptedException {
      release.countDown();
      listener.close();
      thread.join(T);
    }
  }

  static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /** Runs whoami against a server sending {@code reply}; checks the common promises. */
  Cli.Result whoami(byte[] reply, boolean holdOpen, String... options) throws Exception {
    try (HostileServer server = new HostileServer(reply, holdOpen)) {
      List<String> args = new ArrayList<>(List.of("whoami"));
      args.addAll(List.of(options));
      args.add(server.socket.toString());
      Cli.Result result = Cli.run(Cli.peercred(args.toArray(String[]::new)), T);
      if (server.received != null) {
        assertEquals(
            new String(WhoamiProtocol.PROBE, StandardCharsets.ISO_8859_1),
            new String(server.received, StandardCharsets.ISO_8859_1));
      }
      return result;
    }
  }

  /** Exit 76 and exactly one printable line on standard error that contains {@code problem}. */
  Cli.Result expectInvalid(byte[] reply, boolean holdOpen, String problem, String... options)
      throws Exception {
    Cli.Result result = whoami(reply, holdOpen, options).expectExit(76);
    String err = result.stderr();
    assertTrue(err.endsWith("\n"), result::toString);
    assertEquals(1, err.lines().count(), result::toString);
    assertTrue(err.startsWith("peercred whoami: " + dir), result::toString);
    assertTrue(err.contains(": the server's reply "), result::toString);
    assertTrue(err.contains(problem), () -> "expected '" + problem + "' in " + result);
    assertFalse(err.contains("Exception") || err.contains("Error") || err.contains("\tat "), err);
    assertTrue(err.length() < 400, result::toString);
    assertPrintable(err.strip());
    // The kernel's part was read before the reply: it is printed all the same.
    assertTrue(result.out().contains("pid     " + ProcessHandle.current().pid()), result::toString);
    assertTrue(result.out().contains("how the server sees us: invalid reply"), result::toString);
    return result;
  }

  static void assertPrintable(String text) {
    for (char c : text.toCharArray()) {
      assertFalse(
          Character.isISOControl(c) || c == '\u2028' || c == '\u2029',
          () -> String.format("U+%04X in %s", (int) c, text));
    }
  }

  @Test
  void deepNestingIsABoundedErrorNotAStackOverflow() throws Exception {
    expectInvalid(
        bytes(PREFIX + "[".repeat(300_000)),
        false,
        "nesting depth (33) exceeds the maximum allowed (32) at offset 33");
    expectInvalid(bytes(PREFIX + "[".repeat(1000) + "\n"), false, "nesting depth (33)");
    expectInvalid(bytes(PREFIX + "{\"a\":".repeat(1000) + "\n"), false, "nesting depth (33)");
  }

  @Test
  void oversizedReplyIsRefused() throws Exception {
    expectInvalid(
        bytes(PREFIX + "[" + "1,".repeat(100_000)), false, "longer than 65536 bytes (no newline)");
    expectInvalid(
        bytes(PREFIX + "{\"user\":\"" + "x".repeat(20_000) + "\"}\n"),
        false,
        "string value length (20000) exceeds the maximum allowed (16384)");
  }

  @Test
  void truncatedOrStalledReplyIsAnError() throws Exception {
    expectInvalid(bytes(PREFIX + "{\"uid\":10"), false, "truncated: the connection ended after");
    expectInvalid(bytes(PREFIX + "{\"uid\":10"), true, "stopped after 20 bytes", "--timeout", "1s");
  }

  @Test
  void replyMustBeUtf8Json() throws Exception {
    expectInvalid(
        concat(
            bytes(PREFIX + "{\"uid\":0,\"gid\":0,\"pid\":1,\"user\":\""),
            new byte[] {(byte) 0xff, '"', '}', '\n'}),
        false,
        "not valid whoami JSON: not UTF-8 (byte 0xff) at offset 33");
    expectInvalid(bytes(PREFIX + "hello\n"), false, "unrecognized token 'hello'");
    expectInvalid(bytes(PREFIX + "\n"), false, "no value");
    expectInvalid(bytes(PREFIX + "{\"uid\":0,\"gid\":0,\"pid\":1} {}\n"), false, "more after");
    expectInvalid(
        bytes(PREFIX + "{\"uid\":0,\"uid\":1000,\"gid\":0,\"pid\":1}\n"),
        false,
        "duplicate field 'uid'");
    // A terminal escape sequence in the garbage is shown escaped, never sent to the terminal.
    expectInvalid(bytes(PREFIX + "x\u001b]0;owned\u0007\u009b2J\n"), false, "not valid");
  }

  @Test
  void replyMustBeAnObjectWithTheDocumentedFields() throws Exception {
    expectInvalid(bytes(PREFIX + "[1,2]\n"), false, "not a JSON object but an array");
    expectInvalid(bytes(PREFIX + "{\"gid\":0,\"pid\":1}\n"), false, "'uid' is missing");
    expectInvalid(
        bytes(PREFIX + "{\"uid\":\"0\",\"gid\":0,\"pid\":1}\n"),
        false,
        "'uid' must be an integer from 0 to 4294967295, not a string (\"0\")");
    expectInvalid(
        bytes(PREFIX + "{\"uid\":4294967296,\"gid\":0,\"pid\":1}\n"), false, "'uid' must be");
    expectInvalid(bytes(PREFIX + "{\"uid\":0,\"gid\":0,\"pid\":0}\n"), false, "'pid' must be");
    expectInvalid(
        bytes(PREFIX + "{\"uid\":0,\"gid\":0,\"pid\":1,\"groups\":[1,-1]}\n"),
        false,
        "'groups' must be");
    expectInvalid(
        bytes(PREFIX + "{\"uid\":0,\"gid\":0,\"pid\":1,\"user\":{}}\n"),
        false,
        "'user' must be a string or null, not an object");
  }

  @Test
  void jsonOutputCarriesTheProblem() throws Exception {
    Cli.Result result = whoami(bytes(PREFIX + "[".repeat(300_000)), false, "--json").expectExit(76);
    assertEquals(1, result.stderr().lines().count(), result::toString);
    Map<?, ?> out = (Map<?, ?>) result.json();
    assertNull(out.get("seen_by_server"));
    assertTrue(String.valueOf(out.get("probe_error")).contains("nesting depth"), result::toString);
    assertEquals(ProcessHandle.current().pid(), ((Map<?, ?>) out.get("server")).get("pid"));
  }

  @Test
  void aValidReplyIsShownWithoutTerminalEscapes() throws Exception {
    Cli.Result result =
        whoami(
                bytes(
                    PREFIX
                        + "{\"server\":\"evil\\u001b[2J\",\"uid\":1000,\"gid\":1000,\"pid\":null,"
                        + "\"user\":\"zo\u00eb\",\"groups\":[4,27],\"extra\":{\"x\":[1]}}\n"),
                false)
            .expectExit(0);
    assertEquals("", result.stderr(), result::toString);
    assertPrintable(result.out().replace("\n", ""));
    assertTrue(result.out().contains("how the server sees us (evil\\u001b[2J):"), result::toString);
    assertTrue(result.out().contains("  uid     1000 (zo\u00eb)"), result::toString);
    assertTrue(result.out().contains("  pid     -"), result::toString);
    assertTrue(result.out().contains("  groups  4 27"), result::toString);
  }

  @Test
  void serversThatDoNotKnowTheProbeAreNotErrors() throws Exception {
    for (String answer :
        List.of("", "HTTP/1.0 400 Bad Request\r\n\r\n", "PEERCRED", "PEERCRED/2 {}\n", "\n")) {
      Cli.Result result = whoami(bytes(answer), false).expectExit(0);
      assertEquals("", result.stderr(), result::toString);
      assertTrue(result.out().contains("not offered by this server"), result::toString);
    }
    Cli.Result silent = whoami(new byte[0], true, "--timeout", "1s").expectExit(0);
    assertTrue(silent.out().contains("not offered by this server"), silent::toString);
  }
}
