package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Argument checking of {@code peercred kv}; serving is tested with the example server. */
class KvCommandTest {
  @Test
  void rejectsAPrincipalThatIsNeitherAUidNorAName() {
    assertEquals(Main.EXIT_USAGE, Main.run("kv", "/tmp/never-bound.sock", "--readers", "user:a;b"));
    assertEquals(
        Main.EXIT_USAGE, Main.run("kv", "/tmp/never-bound.sock", "--writers", "99999999999"));
  }

  @Test
  void rejectsAnAbstractSocketName() {
    assertEquals(Main.EXIT_USAGE, Main.run("kv", "@kv", "--readers", "1000"));
  }

  @Test
  void unknownOptionIsAUsageError() {
    assertEquals(Main.EXIT_USAGE, Main.run("kv", "--viewers", "1000"));
  }
}
