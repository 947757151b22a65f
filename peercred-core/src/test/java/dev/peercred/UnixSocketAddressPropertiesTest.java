package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Throws random text at the address parser and factories: the only failures allowed are {@link
 * IllegalArgumentException} and {@link NullPointerException} with a message, and every address they
 * accept survives {@code toString()}/{@code parse()} unchanged.
 */
class UnixSocketAddressPropertiesTest {

  @Property(tries = 2000)
  void parseAcceptsOrRejectsWithMessageAndRoundTrips(@ForAll("addressText") String text) {
    UnixSocketAddress address;
    try {
      address = UnixSocketAddress.parse(text);
    } catch (IllegalArgumentException | NullPointerException e) {
      assertNotNull(e.getMessage(), "exception without message for " + escape(text));
      assertFalse(e.getMessage().isBlank());
      return;
    }
    assertValid(address);
    assertEquals(address, UnixSocketAddress.parse(address.toString()));
    assertEquals(address.hashCode(), UnixSocketAddress.parse(address.toString()).hashCode());
  }

  @Property(tries = 1000)
  void ofAcceptsOrRejectsWithMessage(@ForAll("addressText") String text) {
    Path path;
    try {
      path = Path.of(text);
    } catch (InvalidPathException e) {
      return; // no Path can hold it; parse() covers such text
    }
    try {
      UnixSocketAddress address = UnixSocketAddress.of(path);
      assertValid(address);
      assertEquals(path.toAbsolutePath(), address.path().orElseThrow());
      assertEquals(address, UnixSocketAddress.parse(address.toString()));
    } catch (IllegalArgumentException e) {
      assertNotNull(e.getMessage());
    }
  }

  @Property(tries = 1000)
  void abstractNamesAcceptOrRejectWithMessageAndRoundTrip(@ForAll("anyText") String name) {
    try {
      UnixSocketAddress address = UnixSocketAddress.ofAbstract(name);
      assertTrue(address.isAbstract());
      assertEquals(name, address.abstractName().orElseThrow());
      assertEquals(address, UnixSocketAddress.parse(address.toString()));
    } catch (IllegalArgumentException e) {
      assertNotNull(e.getMessage());
    }
  }

  private static void assertValid(UnixSocketAddress address) {
    assertFalse(address.isUnnamed());
    String text = address.toString();
    assertTrue(text.indexOf('\0') < 0);
    if (address.isAbstract()) {
      assertTrue(text.startsWith("@"));
    } else {
      assertTrue(address.path().orElseThrow().isAbsolute());
      assertTrue(address.toSockaddr().length <= 2 + 108);
    }
  }

  @Provide
  Arbitrary<String> anyText() {
    return Arbitraries.strings().all().ofMaxLength(130);
  }

  /** Random text, text made of path-ish characters, and text near the 107-byte limit. */
  @Provide
  Arbitrary<String> addressText() {
    Arbitrary<String> pathish =
        Arbitraries.strings().withChars("/@.a\0é\uD800\uDC00 \n").ofMaxLength(40);
    Arbitrary<String> nearLimit =
        Arbitraries.strings().withChars("/xé").ofMinLength(95).ofMaxLength(115).map(s -> "/" + s);
    Arbitrary<String> abstractish = anyText().map(s -> "@" + s);
    return Arbitraries.oneOf(anyText(), pathish, nearLimit, abstractish);
  }

  private static String escape(String s) {
    StringBuilder b = new StringBuilder();
    s.chars().forEach(c -> b.append(c < 32 || c > 126 ? String.format("\\u%04x", c) : (char) c));
    return b.toString();
  }
}
