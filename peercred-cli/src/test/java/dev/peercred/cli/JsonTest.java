package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CLI's JSON: one-line writing, and bounded, strict reading with clear errors. */
class JsonTest {
  @Test
  void writesOneOrderedLine() {
    Map<String, Object> record = Json.object();
    record.put("time", "2026-01-01T00:00:00Z");
    record.put("connection", 7L);
    record.put("small", 3);
    record.put("duration_ms", 12.5);
    record.put("nan", Double.NaN);
    record.put("ok", true);
    record.put("user", null);
    record.put("groups", List.of(10L, 20L));
    record.put("path", java.nio.file.Path.of("/usr/bin/curl"));
    assertEquals(
        "{\"time\":\"2026-01-01T00:00:00Z\",\"connection\":7,\"small\":3,\"duration_ms\":12.5,"
            + "\"nan\":\"NaN\",\"ok\":true,\"user\":null,\"groups\":[10,20],"
            + "\"path\":\"/usr/bin/curl\"}",
        Json.write(record));
  }

  @Test
  void membersWrittenOnceJoinAnObjectAsIfItHadThemAll() {
    Map<String, Object> shared = Json.object();
    shared.put("uid", 65534L);
    shared.put("user", "nobody \"x\"");
    shared.put("groups", List.of(1L, 2L));
    Map<String, Object> whole = Json.object();
    whole.put("time", "t");
    whole.putAll(shared);
    whole.put("status", 200);
    String members = Json.members(shared);
    assertEquals(
        Json.write(whole),
        new Json.ObjectWriter().put("time", "t").members(members).put("status", 200).end());
    assertEquals("{}", new Json.ObjectWriter().members("").end());
    assertEquals("\"a\\u2028b\"", Json.quote("a\u2028b"));
  }

  @Test
  void escapesEveryCharacterThatCouldBreakTheLineOrTheTerminal() {
    StringBuilder nasty = new StringBuilder("quote\" backslash\\ ");
    for (char c = 0; c < 0x20; c++) {
      nasty.append(c);
    }
    nasty.append('\u007f').append('\u0085').append('\u009b').append('\u2028').append('\u2029');
    nasty.append(" é ✓ \uD83D\uDE00");
    Map<String, Object> record = Json.object();
    record.put("reason", nasty.toString());
    record.put("key\nwith newline", "x");
    String line = Json.write(record);

    assertEquals(1, line.lines().count(), line);
    for (char c : line.toCharArray()) {
      boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
      assertFalse(control, () -> String.format("raw U+%04X in %s", (int) c, line));
    }
    assertTrue(line.contains(" é ✓ \uD83D\uDE00"), line); // printable text stays readable
    Map<?, ?> back = (Map<?, ?>) Json.parse(line);
    assertEquals(nasty.toString(), back.get("reason"));
    assertEquals("x", back.get("key\nwith newline"));
  }

  @Test
  void readsValuesAsPlainJavaObjects() {
    Object value =
        Json.parse(
            " {\"a\":1,\"b\":-2.5e1,\"c\":\"\\u00e9\\n\",\"d\":[true,false,null],\"e\":{}} ");
    Map<?, ?> map = (Map<?, ?>) value;
    assertEquals(List.of("a", "b", "c", "d", "e"), new ArrayList<>(map.keySet()));
    assertEquals(1L, map.get("a"));
    assertEquals(-25.0, map.get("b"));
    assertEquals("é\n", map.get("c"));
    assertEquals(Arrays.asList(true, false, null), map.get("d"));
    assertEquals(Map.of(), map.get("e"));
    assertNull(Json.parse("null"));
  }

  static Json.InvalidJsonException invalid(String text) {
    return assertThrows(Json.InvalidJsonException.class, () -> Json.parse(text), text);
  }

  @Test
  void nestingIsBounded() {
    String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
    assertEquals(List.class, Json.parse(ok) instanceof List<?> ? List.class : null);
    Json.InvalidJsonException e = invalid("[".repeat(1000));
    assertTrue(
        e.problem().contains("nesting depth (33) exceeds the maximum allowed (32)"), e.problem());
    assertEquals(Json.MAX_DEPTH + 1, e.offset()); // just after the 33rd '['
    Json.InvalidJsonException objects = invalid("{\"a\":".repeat(40));
    assertTrue(objects.problem().contains("nesting depth"), objects.problem());
  }

  @Test
  void lengthsAreBounded() {
    Json.InvalidJsonException document = invalid(" ".repeat(Json.MAX_DOCUMENT_LENGTH) + "1");
    assertTrue(document.problem().contains("longer than 65536"), document.problem());
    Json.InvalidJsonException string =
        invalid("\"" + "x".repeat(Json.MAX_STRING_LENGTH + 1) + "\"");
    assertTrue(string.problem().contains("string value length"), string.problem());
    Json.InvalidJsonException name =
        invalid("{\"" + "x".repeat(Json.MAX_STRING_LENGTH + 1) + "\":1}");
    assertTrue(name.problem().contains("name length"), name.problem());
    Json.InvalidJsonException number = invalid("1".repeat(Json.MAX_NUMBER_LENGTH + 1));
    assertTrue(number.problem().contains("number value length"), number.problem());
    Json.InvalidJsonException big = invalid("123456789012345678901234567890");
    assertTrue(big.problem().contains("integer out of range"), big.problem());
    Json.InvalidJsonException huge = invalid("1e999");
    assertTrue(huge.problem().contains("number out of range"), huge.problem());
  }

  @Test
  void malformedTextSaysWhatAndWhere() {
    for (String text :
        List.of(
            "",
            "   ",
            "{",
            "[1,",
            "{\"a\"}",
            "{\"a\":1,}",
            "[1 2]",
            "\"abc",
            "\"\\x\"",
            "\"a\u0001b\"",
            "tru",
            "{\"a\":1}x",
            "{\"a\":1}{}",
            "{\"a\":1,\"a\":2}",
            "NaN",
            "'single'",
            "// comment\n1")) {
      Json.InvalidJsonException e = invalid(text);
      String message = e.getMessage();
      assertTrue(message.startsWith("invalid JSON at offset "), message);
      assertEquals(1, message.lines().count(), message);
      assertFalse(message.contains("Source:"), message);
      assertFalse(message.contains("REDACTED"), message);
      assertFalse(message.contains("StreamReadConstraints"), message);
      assertTrue(message.length() < 300, message);
      assertTrue(e.offset() >= 0 && e.offset() <= text.length(), message);
    }
    assertTrue(invalid("{\"a\":1,\"a\":2}").problem().contains("duplicate"));
    assertTrue(invalid("NaN").problem().endsWith("'NaN'"), "no hint at parser features");
    String quoted = invalid("x\u009b31m").problem(); // the token is quoted, its CSI escaped
    assertTrue(quoted.contains("'x\\u009b31m'"), quoted);
    assertEquals(7, invalid("{\"a\":1}x").offset());
  }

  @Test
  void bytesMustBeUtf8() {
    byte[] good = "{\"user\":\"zoë\"}".getBytes(StandardCharsets.UTF_8);
    assertEquals("zoë", ((Map<?, ?>) Json.parse(good, 0, good.length)).get("user"));

    byte[] bad = {'{', '"', 'a', '"', ':', '"', (byte) 0xff, '"', '}'};
    Json.InvalidJsonException e =
        assertThrows(Json.InvalidJsonException.class, () -> Json.parse(bad, 0, bad.length));
    assertEquals("not UTF-8 (byte 0xff)", e.problem());
    assertEquals(6, e.offset());

    byte[] truncated = {'"', (byte) 0xc3};
    assertTrue(
        assertThrows(
                Json.InvalidJsonException.class, () -> Json.parse(truncated, 0, truncated.length))
            .problem()
            .startsWith("not UTF-8"));

    byte[] utf16 = "{\"a\":1}".getBytes(StandardCharsets.UTF_16LE);
    assertThrows(Json.InvalidJsonException.class, () -> Json.parse(utf16, 0, utf16.length));

    byte[] late = "[\"é\",tru]".getBytes(StandardCharsets.UTF_8);
    Json.InvalidJsonException afterAccent =
        assertThrows(Json.InvalidJsonException.class, () -> Json.parse(late, 0, late.length));
    assertEquals(6, afterAccent.offset(), afterAccent.getMessage()); // bytes, not characters
  }
}
