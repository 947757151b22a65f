package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ListenerOptions#withOwner(String)} and {@link ListenerOptions#withGroup(String)}: a
 * decimal id, or a name the system's databases know (checked against {@code getent(1)}), and a
 * clear {@link IllegalArgumentException} naming the value otherwise.
 */
@Timeout(30)
class ListenerOptionsNamesTest {
  private static final ListenerOptions DEFAULTS = ListenerOptions.defaults();

  /** The id {@code getent DATABASE NAME} gives. */
  private static long getent(String database, String name) throws Exception {
    Process getent = new ProcessBuilder("getent", database, name).start();
    String line = new String(getent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, getent.waitFor(), "getent " + database + " " + name);
    return Long.parseLong(line.split(":")[2]);
  }

  @Test
  void namesResolveAsGetentResolvesThem() throws Exception {
    assertEquals(OptionalLong.of(getent("passwd", "root")), DEFAULTS.withOwner("root").owner());
    assertEquals(OptionalLong.of(getent("group", "root")), DEFAULTS.withGroup("root").group());
    assertEquals(OptionalLong.of(getent("passwd", "nobody")), DEFAULTS.withOwner("nobody").owner());
  }

  @Test
  void namesResolveOnVirtualThreadsToo() throws Exception {
    CompletableFuture<ListenerOptions> options = new CompletableFuture<>();
    Thread.ofVirtual().start(() -> options.complete(DEFAULTS.withGroup("root").withOwner("root")));
    ListenerOptions resolved = options.get(10, TimeUnit.SECONDS);
    assertEquals(OptionalLong.of(getent("group", "root")), resolved.group());
    assertEquals(OptionalLong.of(getent("passwd", "root")), resolved.owner());
  }

  @Test
  void decimalIdsAreTakenAsTheyAre() {
    assertEquals(OptionalLong.of(0), DEFAULTS.withOwner("0").owner());
    assertEquals(OptionalLong.of(4294967294L), DEFAULTS.withOwner("4294967294").owner());
    assertEquals(OptionalLong.of(1234), DEFAULTS.withGroup("01234").group());
  }

  @Test
  void unknownNamesAndMalformedValuesAreRejectedNamingTheValue() {
    var unknown =
        assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withOwner("peercred-nobody"));
    assertEquals("no user named 'peercred-nobody'", unknown.getMessage());
    var unknownGroup =
        assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withGroup("peercred-none"));
    assertEquals("no group named 'peercred-none'", unknownGroup.getMessage());

    for (String bad :
        new String[] {"4294967295", "99999999999999999999", "-1", "a b", "x\u0000", ".x", ""}) {
      var e = assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withOwner(bad), bad);
      assertTrue(
          e.getMessage().contains(bad.isEmpty() ? "empty" : "'" + bad + "'")
              || e.getMessage().endsWith(bad),
          e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> DEFAULTS.withGroup(bad), bad);
    }
    assertThrows(NullPointerException.class, () -> DEFAULTS.withOwner((String) null));
  }
}
