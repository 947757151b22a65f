package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Users;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Name-service lookups with a real group database that misbehaves, in a child JVM whose private
 * mount namespace has another file bind-mounted over {@code /etc/group}: one that makes {@code
 * getgrnam_r} wait (a FIFO), and one it cannot return (an entry over 1 MiB).
 */
@Timeout(120)
class NssTest {
  @TempDir Path dir;

  @BeforeEach
  void canMountOverEtcGroup() {
    Users.assumeRoot();
    Assumptions.assumeTrue(
        new File("/usr/bin/unshare").canExecute() && new File("/usr/bin/mkfifo").canExecute(),
        "SKIPPED LOUDLY: unshare or mkfifo (util-linux, coreutils) is missing");
  }

  /** Runs {@link NssProbe} with {@code groupFile} as {@code /etc/group}; returns its output. */
  private static List<String> probe(String mode, Path groupFile, String... jvmOptions)
      throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                "mount --bind \"$0\" /etc/group && exec \"$@\"",
                groupFile.toString()));
    command.addAll(
        JavaCommand.main(NssProbe.class)
            .options(jvmOptions)
            .args(mode, groupFile.toString())
            .toList());
    try (ChildProcess child = ChildProcess.builder(command).mergeStderr().start()) {
      return child.assertExit(0).stdoutLines();
    }
  }

  /**
   * A lookup may wait (a directory server, a slow file): on a virtual thread it runs on a platform
   * thread while the virtual thread parks, so the carrier (here the only one) goes on serving other
   * virtual threads.
   */
  @Test
  void aLookupThatWaitsLeavesTheCarrierToOtherVirtualThreads() throws Exception {
    Path fifo = dir.resolve("group");
    assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
    List<String> lines =
        probe(
            "wait",
            fifo,
            "-Djdk.virtualThreadScheduler.parallelism=1",
            "-Djdk.virtualThreadScheduler.maxPoolSize=1");
    assertEquals(List.of("carrier free", "lookup done ERROR"), lines, lines.toString());
  }

  /**
   * A lookup the name service fails is an error, not "no such group": {@link
   * ListenerOptions#withGroup(String)} throws {@link java.io.UncheckedIOException} naming the
   * failed call, and a group rule gives an error decision, on platform and virtual threads.
   */
  @Test
  void aLookupTheNameServiceFailsIsAnErrorNotAnUnknownName() throws Exception {
    Path group = dir.resolve("group");
    String members =
        IntStream.range(0, 150_000).mapToObj(i -> "m" + i).collect(Collectors.joining(","));
    Files.writeString(
        group, Files.readString(Path.of("/etc/group")) + "peercredhuge:x:4242:" + members + "\n");
    List<String> lines = probe("fail", group);
    assertEquals(4, lines.size(), lines.toString());
    for (String on : List.of("platform ", "virtual ")) {
      String options =
          lines.stream().filter(l -> l.startsWith(on + "options")).findFirst().orElseThrow();
      assertTrue(options.startsWith(on + "options java.io.UncheckedIOException: "), options);
      assertTrue(options.contains("getgrnam_r failed: ERANGE"), options);
      assertTrue(options.contains("'peercredhuge'"), options);
      String policy =
          lines.stream().filter(l -> l.startsWith(on + "policy")).findFirst().orElseThrow();
      assertTrue(policy.startsWith(on + "policy ERROR"), policy);
      assertTrue(policy.contains("ERANGE"), policy);
    }
  }
}
