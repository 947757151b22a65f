package dev.peercred.grpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Starts {@link CallerProcess} in a child JVM, as this user or as another one through {@code
 * setpriv}. The test class path is copied to a world-readable directory first, since a child
 * running as another uid cannot read the build's jars under a 0700 home.
 */
final class OtherProcesses {
  private OtherProcesses() {}

  static final String JAVA =
      ProcessHandle.current().info().command().orElse("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");

  /** Copies the class path into {@code dir} (made world-readable) and returns the new one. */
  static String readableClassPath(Path dir) throws IOException {
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<String> entries = new ArrayList<>();
    int i = 0;
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path source = Path.of(entry);
      if (!Files.exists(source)) {
        continue;
      }
      Path target = dir.resolve((i++) + "-" + source.getFileName());
      copy(source, target);
      entries.add(target.toString());
    }
    return String.join(java.io.File.pathSeparator, entries);
  }

  private static void copy(Path source, Path target) throws IOException {
    try (Stream<Path> all = Files.walk(source)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path t = target.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
          Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
  }

  /** Makes a socket's directory searchable and the socket connectable by every user. */
  static void openToEveryone(Path socket) {
    try {
      Files.setPosixFilePermissions(
          socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A started caller and its output lines. */
  record Result(int exit, List<String> lines, String stderr) {
    String self() {
      return lines.stream()
          .filter(l -> l.startsWith("SELF "))
          .findFirst()
          .orElseThrow(() -> new AssertionError("caller printed no SELF line; stderr:\n" + stderr))
          .substring(5);
    }

    List<String> answers() {
      return lines.stream().filter(l -> !l.startsWith("SELF ")).toList();
    }
  }

  static Process start(String classPath, Long uid, Path socket, int channels, int calls)
      throws IOException {
    List<String> command = new ArrayList<>();
    if (uid != null) {
      command.addAll(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups"));
    }
    command.addAll(
        List.of(
            JAVA,
            "--enable-native-access=ALL-UNNAMED",
            "-Xshare:auto",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            classPath,
            CallerProcess.class.getName(),
            socket.toString(),
            Integer.toString(channels),
            Integer.toString(calls)));
    return new ProcessBuilder(command).directory(Path.of("/").toFile()).start();
  }

  static Result finish(Process process) throws Exception {
    var out = process.getInputStream().readAllBytes();
    var err = process.getErrorStream().readAllBytes();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("caller did not finish");
    }
    return new Result(
        process.exitValue(),
        new String(out, java.nio.charset.StandardCharsets.UTF_8).lines().toList(),
        new String(err, java.nio.charset.StandardCharsets.UTF_8));
  }
}
