package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Throws random {@code LISTEN_PID}/{@code LISTEN_FDS}/{@code LISTEN_FDNAMES} values at the
 * socket-activation parser: it either gives names consistent with the variables or fails with a
 * {@link SocketActivationException} that has a reason and a message, and it never accepts
 * descriptors meant for another process.
 */
class SocketActivationPropertiesTest {
  private static final long PID = 42;

  @Property(tries = 2000)
  void parsesConsistentlyOrFailsWithAReason(@ForAll("environments") Map<String, String> env) {
    List<String> names;
    try {
      names = SocketActivation.parse(env, PID);
    } catch (SocketActivationException e) {
      assertNotNull(e.reason());
      assertNotNull(e.getMessage());
      assertFalse(e.getMessage().isBlank());
      return;
    }
    if (env.isEmpty()) {
      assertEquals(List.of(), names);
      return;
    }
    // Accepted: the sockets are ours, and the names match the count and the variable.
    assertEquals(PID, Long.parseLong(env.get("LISTEN_PID")));
    assertEquals(Long.parseLong(env.get("LISTEN_FDS")), names.size());
    String given = env.get("LISTEN_FDNAMES");
    if (given != null && !names.isEmpty()) {
      assertEquals(given, String.join(":", names));
    }
    for (String name : names) {
      assertFalse(name.isEmpty());
      assertTrue(name.length() <= 255);
      assertTrue(name.chars().noneMatch(c -> c < 0x20 || c == 0x7F), name);
    }
  }

  @Property(tries = 500)
  void variablesForAnotherProcessAreNeverAccepted(@ForAll("environments") Map<String, String> env) {
    Map<String, String> other = new HashMap<>(env);
    other.put("LISTEN_PID", "43");
    try {
      SocketActivation.parse(other, PID);
      throw new AssertionError("accepted descriptors passed to pid 43: " + other);
    } catch (SocketActivationException e) {
      assertNotNull(e.reason());
    }
  }

  @Provide
  Arbitrary<Map<String, String>> environments() {
    Arbitrary<String> number =
        Arbitraries.oneOf(
            Arbitraries.of(
                "42",
                "042",
                "0",
                "1",
                "2",
                "3",
                "-1",
                "+42",
                " 42",
                "42 ",
                "4 2",
                "",
                "65536",
                "65537",
                "2147483647",
                "2147483648",
                "99999999999",
                "0x2a",
                "٤٢"),
            Arbitraries.integers().between(0, 70_000).map(String::valueOf),
            Arbitraries.strings().all().ofMaxLength(12));
    Arbitrary<String> name =
        Arbitraries.oneOf(
            Arbitraries.strings().withChars("abc-_.").ofMinLength(1).ofMaxLength(6),
            Arbitraries.strings().all().ofMaxLength(6),
            Arbitraries.just("x".repeat(256)));
    Arbitrary<String> names =
        Arbitraries.oneOf(
            name.list().ofMaxSize(4).map(list -> String.join(":", list)),
            Arbitraries.strings().withChars("a:\n\0").ofMaxLength(8));
    return Combinators.combine(number.optional(0.8), number.optional(0.8), names.optional(0.6))
        .as(
            (Optional<String> pid, Optional<String> count, Optional<String> fdNames) -> {
              Map<String, String> env = new HashMap<>();
              pid.ifPresent(v -> env.put("LISTEN_PID", v));
              count.ifPresent(v -> env.put("LISTEN_FDS", v));
              fdNames.ifPresent(v -> env.put("LISTEN_FDNAMES", v));
              return env;
            });
  }
}
