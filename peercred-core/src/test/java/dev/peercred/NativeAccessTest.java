package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that denies peercred native access gets, at the first call and at every later one, an
 * {@link UnsupportedOperationException} that names the exact flag to add, with the JDK's {@link
 * IllegalCallerException} as its cause: never an {@link ExceptionInInitializerError} followed by
 * {@link NoClassDefFoundError}s for the life of the JVM. On the class path the flag is {@code
 * --enable-native-access=ALL-UNNAMED}; with {@code dev.peercred} as a named module on the module
 * path it is {@code --enable-native-access=dev.peercred}.
 */
@Timeout(120)
class NativeAccessTest {
  private static final List<String> ENTRY_POINTS =
      List.of("pair", "bind", "connect", "read", "self");

  @TempDir Path dir;

  private static String location(Class<?> type) throws Exception {
    return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }

  /**
   * Runs {@link NativeAccessProbe} with {@code options} (the JVM's, then the class) and {@code
   * arguments} after the socket path, and returns its output.
   */
  private List<String> probe(List<String> options, String... arguments) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(JavaCommand.java().toString());
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(options);
    command.add(dir.resolve("probe.sock").toString());
    command.addAll(List.of(arguments));
    List<String> lines;
    try (ChildProcess child = ChildProcess.builder(command).mergeStderr().start()) {
      lines = child.assertExit(0).stdoutLines();
    }
    assertEquals("done", lines.getLast(), lines.toString());
    return lines;
  }

  private List<String> onClassPath(String... options) throws Exception {
    List<String> command = new ArrayList<>(List.of(options));
    command.addAll(
        List.of("-cp", System.getProperty("java.class.path"), NativeAccessProbe.class.getName()));
    return probe(command);
  }

  /**
   * The core as the named module {@code dev.peercred} on the module path, with the probe patched
   * into it (a class in a package of a named module cannot come from the class path).
   */
  private List<String> onModulePath(String... options) throws Exception {
    List<String> command = new ArrayList<>(List.of(options));
    command.addAll(
        List.of(
            "--module-path",
            location(UnixListener.class),
            "--patch-module",
            "dev.peercred=" + location(NativeAccessProbe.class),
            "--module",
            "dev.peercred/" + NativeAccessProbe.class.getName()));
    return probe(command);
  }

  private static void assertEveryCallNames(String flag, List<String> lines) {
    for (String entryPoint : ENTRY_POINTS) {
      for (int call = 1; call <= 2; call++) {
        String prefix = entryPoint + " " + call + " ";
        String line =
            lines.stream()
                .filter(l -> l.startsWith(prefix))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + prefix + " in " + lines));
        assertTrue(line.contains(" uoe=true "), line);
        assertTrue(line.contains(" cause=java.lang.IllegalCallerException "), line);
        assertTrue(line.contains(" " + flag + " ") || line.endsWith(" " + flag), line);
      }
    }
    // A capability probe documented never to throw says "no" instead.
    assertTrue(lines.contains("pinning 1 false ok"), lines.toString());
    assertTrue(lines.contains("pinning 2 false ok"), lines.toString());
  }

  @Test
  void onTheClassPathEveryCallNamesAllUnnamed() throws Exception {
    assertEveryCallNames(
        "--enable-native-access=ALL-UNNAMED", onClassPath("--illegal-native-access=deny"));
  }

  @Test
  void asANamedModuleEveryCallNamesTheModule() throws Exception {
    assertEveryCallNames(
        "--enable-native-access=dev.peercred", onModulePath("--illegal-native-access=deny"));
  }

  @Test
  void initializingEveryClassWithoutNativeAccessThrowsNothing() throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "--illegal-native-access=deny",
                "-cp",
                System.getProperty("java.class.path"),
                NativeAccessProbe.class.getName()));
    List<String> lines = probe(command, "initialize-all");
    assertTrue(lines.getFirst().startsWith("initialized "), lines.toString());
    assertEveryCallNames("--enable-native-access=ALL-UNNAMED", lines);
  }

  @Test
  void withTheFlagTheSameCallsWorkOnBothPaths() throws Exception {
    for (List<String> lines :
        List.of(
            onClassPath("--illegal-native-access=deny", "--enable-native-access=ALL-UNNAMED"),
            onModulePath("--illegal-native-access=deny", "--enable-native-access=dev.peercred"))) {
      for (String entryPoint : List.of("pair", "bind", "self")) {
        assertTrue(lines.contains(entryPoint + " 1 ok"), lines.toString());
        assertTrue(lines.contains(entryPoint + " 2 ok"), lines.toString());
      }
    }
  }
}
