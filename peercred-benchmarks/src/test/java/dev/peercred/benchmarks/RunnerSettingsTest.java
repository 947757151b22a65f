package dev.peercred.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.benchmarks.Runner.Settings;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runner's command line: a wrong argument is named, never run with as if it were right. */
class RunnerSettingsTest {
  @Test
  void optionsAreReadAndTheLastOneWins() {
    Settings s =
        Runner.settings(
            "--out",
            "docs/benchmarks.md",
            "--servers",
            "go,peercred",
            "--held",
            "0",
            "--out",
            "/tmp/x.md",
            "--seconds",
            "0.5",
            "--jmh",
            "false",
            "--steady",
            "2.5");
    assertEquals(List.of("go", "peercred"), s.servers());
    assertEquals(0, s.held());
    assertEquals(0.5, s.seconds());
    assertEquals(2.5, s.steadySeconds());
    assertFalse(s.jmh());
    assertEquals(Path.of("/tmp/x.md"), s.out());
  }

  @Test
  void helpAsksForTheUsage() {
    assertNull(Runner.settings("--out", "docs/benchmarks.md", "--help"));
  }

  @Test
  void wrongArgumentsAreNamed() {
    for (List<String> args :
        List.of(
            List.of("--sconds", "5"),
            List.of("seconds", "5"),
            List.of("--seconds"),
            List.of("--seconds", "five"),
            List.of("--rounds", "0"),
            List.of("--held", "-1"),
            List.of("--steady", "-1"),
            List.of("--servers", "go,rust"),
            List.of("--jmh", "yes"))) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> Runner.settings(args.toArray(String[]::new)),
              args.toString());
      assertTrue(e.getMessage().contains(args.get(0)), e.getMessage());
    }
  }
}
