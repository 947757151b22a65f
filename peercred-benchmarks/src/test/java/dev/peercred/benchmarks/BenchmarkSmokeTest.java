package dev.peercred.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.benchmarks.Runner.Result;
import dev.peercred.benchmarks.Runner.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every scenario very briefly against peercred's server in a process of its own, and checks
 * that the figures are sane (not fast: speed is what the real run measures).
 */
class BenchmarkSmokeTest {
  @TempDir Path dir;

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void everyScenarioProducesSaneFiguresForPeercredsServer() throws Exception {
    Settings settings =
        new Settings(
            List.of("peercred"), 0.3, 0.5, 200, 1, false, "", dir.resolve("b.md"), dir, "smoke");
    Result r = Runner.measure("peercred", null, settings);
    assertTrue(r.connectsPerSecond() > 0, r.toString());
    assertTrue(r.p50Micros() > 0 && r.p50Micros() <= r.p99Micros(), r.toString());
    assertTrue(r.megabytesPerSecond() > 0, r.toString());
    assertTrue(r.idleRssMiB() > 1 && r.heldRssMiB() > 1, r.toString());
    assertTrue(r.heldHeapMiB() > 0, r.toString());
    assertEquals(200, r.held());
    assertTrue(r.heldP50Micros() > 0, r.toString());
    assertTrue(r.heldKiBPerConnection() > 0, r.toString());
    // At least the minimum (half a scenario each of connects and ping-pong), then the steady
    // window, within the limit of 12 windows.
    assertTrue(r.warmUpSeconds() >= 0.5 && r.warmUpSeconds() < 0.3 + 12 * 0.5 + 1, r.toString());
    String md =
        Report.markdown(
            settings,
            java.util.Map.of("peercred", List.of(r)),
            List.of(),
            java.time.Instant.now(),
            "",
            "");
    assertTrue(md.contains("| peercred EchoServer, virtual threads |"), md);
  }

  /**
   * A benchmark run rewrites docs/benchmarks.md from its figures and the hand-written sections
   * {@link Report} appends: text added to the document anywhere else would be lost by the next run.
   */
  @Test
  void theDocumentEndsWithTheHandWrittenSectionsARunAppends() throws Exception {
    Path root = Path.of("..");
    String document = Files.readString(root.resolve("docs/benchmarks.md"));
    String handWritten =
        "\n"
            + Files.readString(root.resolve("peercred-benchmarks/tuning.md"))
            + "\n"
            + Files.readString(root.resolve("peercred-benchmarks/other-benchmarks.md"));
    assertTrue(
        document.endsWith(handWritten),
        "docs/benchmarks.md does not end with peercred-benchmarks/tuning.md and"
            + " other-benchmarks.md as a run appends them: write hand-written sections there");
  }

  /**
   * The C server builds, and servers of one round run side by side, taking every scenario in turns.
   */
  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void serversOfOneRoundTakeEveryScenarioInTurns() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/gcc")),
        "gcc is not installed: the C reference server cannot be built");
    Settings settings =
        new Settings(
            List.of("c", "peercred"), 1.0, 0, 50, 1, false, "", dir.resolve("b.md"), dir, "smoke");
    java.util.Map<String, Path> servers = new java.util.LinkedHashMap<>();
    servers.put("c", Runner.buildC(dir));
    servers.put("peercred", null);
    java.util.Map<String, Result> results = Runner.round(servers, settings);
    assertEquals(List.of("c", "peercred"), List.copyOf(results.keySet()));
    for (Result r : results.values()) {
      assertTrue(r.connectsPerSecond() > 0 && r.cpuPerConnectMicros() >= 0, r.toString());
      assertTrue(r.p50Micros() > 0 && r.p50Micros() <= r.p99Micros(), r.toString());
      assertTrue(r.megabytesPerSecond() > 0, r.toString());
      assertEquals(50, r.held());
    }
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void theGoServerBuildsOfflineAndEchoes() throws Exception {
    Path go = Runner.buildGo(dir);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        go != null, "go cannot build the Go reference server (golang-go, golang-golang-x-sys-dev)");
    Settings settings =
        new Settings(List.of("go"), 0.2, 0, 100, 1, false, "", dir.resolve("b.md"), dir, "smoke");
    Result r = Runner.measure("go", go, settings);
    assertTrue(r.connectsPerSecond() > 0 && r.megabytesPerSecond() > 0, r.toString());
    assertEquals(100, r.held());
  }
}
