package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands other than the gRPC ones run with only core, the plain examples and Jackson on the
 * class path (what the launcher gives them), and never load a gRPC class.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LeanClassPathTest {
  static final Duration T = Duration.ofSeconds(60);
  static final Set<String> LEAN =
      Set.of("peercred-core", "peercred-examples", "peercred-cli", "jackson-core");
  static final Pattern VERSIONED_JAR = Pattern.compile("(.+?)-\\d[^/]*\\.jar");

  @TempDir Path dir;

  /** The artifact a class path entry belongs to: a module's classes directory, or a jar. */
  static String artifact(String entry) {
    Path path = Path.of(entry);
    if (path.endsWith(Path.of("target", "classes"))) {
      return path.getParent().getParent().getFileName().toString();
    }
    Matcher jar = VERSIONED_JAR.matcher(path.getFileName().toString());
    return jar.matches() ? jar.group(1) : path.getFileName().toString();
  }

  static List<String> lean(String... args) {
    List<String> kept =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(entry -> LEAN.contains(artifact(entry)))
            .toList();
    assertEquals(LEAN.size(), kept.size(), "lean class path: " + kept);
    List<String> command = new ArrayList<>(List.of(Cli.JAVA, "--enable-native-access=ALL-UNNAMED"));
    command.addAll(List.of("-cp", String.join(File.pathSeparator, kept), "dev.peercred.cli.Main"));
    command.addAll(List.of(args));
    return command;
  }

  @Test
  void commandsOtherThanGrpcNeedNoGrpc() throws Exception {
    for (String[] args :
        List.of(
            new String[] {"--help"},
            new String[] {"--version"},
            new String[] {"help"},
            new String[] {"whoami", "--help"},
            new String[] {"help", "whoami"},
            new String[] {"echo", "--help"},
            new String[] {"kv", "--help"},
            new String[] {"proxy", "--help"},
            new String[] {"help", "grpc-demo"})) { // its help needs no gRPC class either
      Cli.Result result = Cli.run(lean(args), T).expectExit(0);
      assertEquals("", result.stderr(), result::toString);
    }
    Cli.Result list = Cli.run(lean("--help"), T);
    assertTrue(
        list.out().contains("grpc-demo") && list.out().contains("grpc-whoami"), list::toString);
  }

  @Test
  void whoamiRunsOnTheLeanClassPathWithoutLoadingGrpc() throws Exception {
    Path socket = dir.resolve("quiet.sock");
    try (UnixListener listener = UnixListener.bind(socket)) {
      Thread server =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (UnixConnection client = listener.accept()) {
                      client.inputStream().readNBytes(WhoamiProtocol.PROBE.length);
                    } catch (IOException e) {
                      // closed at the end of the test
                    }
                  });
      Cli.Result result = Cli.run(lean("whoami", socket.toString()), T).expectExit(0);
      assertTrue(result.out().contains("not offered by this server"), result::toString);
      server.join(T);
    }
    // On the full class path too, building the command tree loads no gRPC class.
    List<String> full = new ArrayList<>(Cli.peercred("whoami", "--help"));
    full.add(1, "-Xlog:class+load:stderr");
    Cli.Result loaded = Cli.run(full, T).expectExit(0);
    assertTrue(loaded.stderr().contains("dev.peercred.cli.WhoamiCommand"), loaded::toString);
    assertFalse(loaded.stderr().contains("io.grpc."), "gRPC classes were loaded");
    assertFalse(loaded.stderr().contains("com.google.protobuf."), "protobuf classes were loaded");
  }

  @Test
  void aGrpcCommandWithoutGrpcSaysWhatIsMissing() throws Exception {
    for (String[] args :
        List.of(
            new String[] {"grpc-whoami", dir.resolve("none.sock").toString()},
            new String[] {"grpc-demo", dir.resolve("demo.sock").toString()})) {
      Cli.Result result = Cli.run(lean(args), T).expectExit(1);
      assertEquals(1, result.stderr().lines().count(), result::toString);
      assertTrue(
          result.stderr().contains("the gRPC libraries are not on the class path"),
          result::toString);
    }
  }
}
