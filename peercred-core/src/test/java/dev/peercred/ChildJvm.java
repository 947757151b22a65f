package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/** Starts Java programs of this test class path in child processes, optionally as another user. */
final class ChildJvm {
  private ChildJvm() {}

  static final long NOBODY = 65534;

  /** The java binary running this test. */
  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  /** Command prefix that runs the rest as {@code uid}/{@code gid} with no supplementary groups. */
  static List<String> asUser(long uid, long gid) {
    requireRootAndSetpriv();
    return List.of(
        "setpriv", "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--inh-caps=-all");
  }

  static void requireRootAndSetpriv() {
    Assumptions.assumeTrue(
        PeerCredentials.ofCurrentProcess().uid() == 0,
        "SKIPPED LOUDLY: this test switches users with setpriv and must run as root (CI does)");
    Assumptions.assumeTrue(
        new File("/usr/bin/setpriv").canExecute(),
        "SKIPPED LOUDLY: /usr/bin/setpriv (util-linux) is missing");
  }

  /** A java command line running {@code main} with this test class path. */
  static List<String> javaCommand(Class<?> main, String... args) {
    List<String> command = new ArrayList<>();
    command.add(java());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xss256k");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    return command;
  }

  /**
   * Runs {@code command} (its standard error joined to its output) until it exits, at most 60 s,
   * and returns its output lines; fails, showing the output, if it does not exit 0 in time.
   */
  static List<String> outputOf(List<String> command) throws Exception {
    Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output;
    try {
      output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "did not exit: " + command + "\n" + output);
    } finally {
      child.destroyForcibly();
    }
    assertEquals(0, child.exitValue(), output);
    return output.lines().toList();
  }

  static Process start(List<String> prefix, Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(javaCommand(main, args));
    return new ProcessBuilder(command).redirectErrorStream(false).start();
  }

  /** Makes {@code directory} and its socket reachable by every user. */
  static void openToEveryone(Path directory) throws IOException {
    Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (var files = Files.list(directory)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
      }
    }
  }

  /** Number of descriptors this process has open. */
  static long openDescriptors() throws IOException {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
