package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * File permissions and peer checks are two layers: a client running as another user (uid 65534,
 * through {@code setpriv}) cannot even connect to a socket in a directory it may not enter, while
 * an abstract socket has no permissions at all, so there only the peer check stands between it and
 * the server.
 */
@Timeout(60)
class PermissionLayersTest {
  @TempDir Path dir;
  private List<String> classPath;

  @BeforeEach
  void otherUserCanRunTheProbe() throws IOException {
    Assumptions.assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0, "running a client as uid 65534 needs root");
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) is not installed");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    classPath = copyClassPath(dir.resolve("cp"));
  }

  @Test
  void socketInADirectoryTheClientCannotEnterRefusesItBeforeAnyAccept() throws Exception {
    Path privateDir = Files.createDirectory(dir.resolve("private"));
    Files.setPosixFilePermissions(privateDir, PosixFilePermissions.fromString("rwx------"));
    try (UnixListener listener = UnixListener.bind(privateDir.resolve("s"))) {
      Files.setPosixFilePermissions(
          privateDir.resolve("s"), PosixFilePermissions.fromString("rwxrwxrwx"));
      CompletableFuture<UnixConnection> accepted =
          CredentialFaultInjectionTest.acceptAsync(listener);
      String out = probeAsNobody(privateDir.resolve("s").toString());
      assertTrue(out.startsWith("failed java.net.ConnectException"), out);
      assertTrue(out.contains("EACCES"), out);
      Thread.sleep(100);
      assertFalse(accepted.isDone(), "the kernel let the connection through");
    }
  }

  @Test
  void abstractSocketLetsAnyoneConnectSoThePeerCheckMustRefuse() throws Exception {
    UnixSocketAddress address =
        UnixSocketAddress.ofAbstract("peercred-layers-" + ProcessHandle.current().pid());
    try (UnixListener listener = UnixListener.bind(address, ListenerOptions.defaults())) {
      CompletableFuture<String> probe =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return probeAsNobody(address.toString());
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      try (UnixConnection connection = listener.accept()) {
        assertEquals(65534, connection.peerCredentials().uid());
        assertFalse(connection.peerCredentials().hasUid(0));
        connection.refuse("Unauthorized access\n");
      }
      String out = probe.get(30, TimeUnit.SECONDS);
      // The client, too, learns who the server is: root, taken at listen(2).
      assertEquals("connected 0\nUnauthorized access", out);
    }
  }

  private String probeAsNobody(String address) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "/usr/bin/setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                Children.JAVA,
                "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                String.join(":", classPath),
                ConnectProbe.class.getName(),
                address));
    Process process =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    return out;
  }

  /** Copies this build's class directories (under {@code target}) where uid 65534 can read them. */
  static List<String> copyClassPath(Path root) throws IOException {
    List<String> entries = new ArrayList<>();
    int n = 0;
    for (String entry : System.getProperty("java.class.path").split(":")) {
      Path source = Path.of(entry);
      if (!entry.contains("/target/") || !Files.exists(source)) {
        continue;
      }
      Path target = root.resolve(Integer.toString(n++)).resolve(source.getFileName());
      try (Stream<Path> files = Files.walk(source)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          Path copy = target.resolve(source.relativize(file).toString());
          if (Files.isDirectory(file)) {
            Files.createDirectories(copy);
          } else {
            Files.createDirectories(copy.getParent());
            Files.copy(file, copy);
          }
        }
      }
      entries.add(target.toString());
    }
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Files.setPosixFilePermissions(
            file,
            PosixFilePermissions.fromString(Files.isDirectory(file) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
    return entries;
  }
}
