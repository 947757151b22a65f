package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The proxy's exit codes and messages for everything wrong before it can serve. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class ProxyArgumentsTest {
  static final Duration T = ChildProcess.TIMEOUT;

  @TempDir Path dir;

  Cli.Result proxy(String... args) throws Exception {
    String[] all = new String[args.length + 1];
    all[0] = "proxy";
    System.arraycopy(args, 0, all, 1, args.length);
    return Cli.run(Cli.peercred(all), T);
  }

  @Test
  void missingOptionsAreUsageErrors() throws Exception {
    Cli.Result result = proxy("--listen", dir.resolve("p.sock").toString());
    assertEquals(64, result.exitCode());
    assertTrue(
        result.stderr().contains("--to") && result.stderr().contains("--policy"), result.stderr());
  }

  @Test
  void badDurationIsAUsageError() throws Exception {
    Files.writeString(dir.resolve("policy"), "allow any\n");
    Cli.Result result =
        proxy(
            "--listen", dir.resolve("p.sock").toString(),
            "--to", dir.resolve("b.sock").toString(),
            "--policy", dir.resolve("policy").toString(),
            "--grace", "soon");
    assertEquals(64, result.exitCode());
    assertTrue(result.stderr().contains("'soon' is not a duration"), result.stderr());
  }

  @Test
  void tooLongSocketPathIsAUsageError() throws Exception {
    Files.writeString(dir.resolve("policy"), "allow any\n");
    Cli.Result result =
        proxy(
            "--listen", dir.resolve("x".repeat(120)).toString(),
            "--to", dir.resolve("b.sock").toString(),
            "--policy", dir.resolve("policy").toString());
    assertEquals(64, result.exitCode());
    assertTrue(
        result.stderr().contains("--listen") && result.stderr().contains("107"), result.stderr());
  }

  @Test
  void missingPolicyFileExits66() throws Exception {
    Cli.Result result =
        proxy(
            "--listen", dir.resolve("p.sock").toString(),
            "--to", dir.resolve("b.sock").toString(),
            "--policy", dir.resolve("nope").toString());
    assertEquals(66, result.exitCode());
    assertTrue(
        result.stderr().contains("policy file not found: " + dir.resolve("nope")), result.stderr());
    assertFalse(Files.exists(dir.resolve("p.sock")), "nothing was bound");
  }

  @Test
  void invalidPolicyExits65NamingTheLine() throws Exception {
    Files.writeString(dir.resolve("policy"), "# ok\nallow uid 1000\npermit everyone\n");
    Cli.Result result =
        proxy(
            "--listen", dir.resolve("p.sock").toString(),
            "--to", dir.resolve("b.sock").toString(),
            "--policy", dir.resolve("policy").toString());
    assertEquals(65, result.exitCode());
    assertTrue(result.stderr().contains(dir.resolve("policy") + ":3:"), result.stderr());
  }

  @Test
  void listeningInAMissingDirectoryExits73() throws Exception {
    Files.writeString(dir.resolve("policy"), "allow any\n");
    Cli.Result result =
        proxy(
            "--listen", dir.resolve("no/such/dir/p.sock").toString(),
            "--to", dir.resolve("b.sock").toString(),
            "--policy", dir.resolve("policy").toString());
    assertEquals(73, result.exitCode());
    assertTrue(result.stderr().contains("cannot listen on"), result.stderr());
  }

  @Test
  void helpListsTheExitCodes() throws Exception {
    Cli.Result result = proxy("--help");
    assertEquals(0, result.exitCode());
    assertTrue(result.out().contains("Exit status:") && result.out().contains("66"), result.out());
  }
}
