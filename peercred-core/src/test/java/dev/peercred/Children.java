package dev.peercred;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Child JVMs and descriptor counts for tests that need real other processes. */
final class Children {
  private Children() {}

  static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

  /** Starts {@code main} in a new JVM with this test's class path; stderr goes to this one's. */
  static Process startJvm(Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(JAVA);
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xshare:auto");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /** Reads one line of the child's stdout, failing if it exits first. */
  static String readLine(Process process) throws IOException {
    var reader =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = reader.readLine();
    if (line == null) {
      throw new IOException("child exited before writing a line: " + process);
    }
    return line;
  }

  static void kill(Process process) throws InterruptedException {
    process.destroyForcibly(); // SIGKILL
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** How many descriptors this process has open. */
  static int openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return (int) fds.count();
    }
  }

  /** The descriptor number in {@code UnixConnection[fd=12, ...]}. */
  static int fdOf(Object socketOwner) {
    String s = socketOwner.toString();
    int i = s.indexOf("fd=") + 3;
    int j = i;
    while (j < s.length() && Character.isDigit(s.charAt(j))) {
      j++;
    }
    return Integer.parseInt(s.substring(i, j));
  }
}
