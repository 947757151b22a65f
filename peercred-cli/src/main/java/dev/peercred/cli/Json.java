package dev.peercred.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * JSON for the audit trail, {@code whoami --json} and the whoami exchange: written here (a flat
 * record is written on every proxied request, and a generator costs more than the record), read
 * through Jackson's streaming parser.
 *
 * <p>Values are plain Java objects: objects are ordered maps (keys keep their insertion order),
 * arrays are lists, numbers are {@code Long} (integers) or {@code Double}, and strings, booleans
 * and null are themselves. Writing produces one line: every control character, DEL, the C1 controls
 * and the Unicode line and paragraph separators are escaped, so a record never spans lines and
 * never carries a terminal escape sequence.
 *
 * <p>Reading is bounded, because the whoami reply comes from a server the user may not trust: at
 * most {@value #MAX_DOCUMENT_LENGTH} characters, nested at most {@value #MAX_DEPTH} deep, strings
 * and names of at most {@value #MAX_STRING_LENGTH} characters, numbers of at most {@value
 * #MAX_NUMBER_LENGTH} characters, no duplicate keys. Anything else is an {@link
 * InvalidJsonException} naming the problem and where it is.
 */
public final class Json {
  private Json() {}

  /** The most characters (or bytes, for {@link #parse(byte[], int, int)}) one document may have. */
  static final int MAX_DOCUMENT_LENGTH = 64 * 1024;

  /** How deep arrays and objects may nest; a top-level object is depth 1. */
  static final int MAX_DEPTH = 32;

  /** The longest string or object key, in characters. */
  static final int MAX_STRING_LENGTH = 16 * 1024;

  /** The longest number, in characters; a {@code long} needs at most 20. */
  static final int MAX_NUMBER_LENGTH = 32;

  private static final JsonFactory FACTORY =
      new JsonFactoryBuilder()
          .streamReadConstraints(
              StreamReadConstraints.builder()
                  .maxDocumentLength(MAX_DOCUMENT_LENGTH)
                  .maxNestingDepth(MAX_DEPTH)
                  .maxStringLength(MAX_STRING_LENGTH)
                  .maxNameLength(MAX_STRING_LENGTH)
                  .maxNumberLength(MAX_NUMBER_LENGTH)
                  .build())
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .build();

  /** Text that is not valid JSON, or over one of the limits. */
  static final class InvalidJsonException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final long offset;
    private final String problem;

    /** {@code problem} may quote the input: it is made {@linkplain Text#printable printable}. */
    InvalidJsonException(long offset, String problem) {
      this(offset, Text.printable(problem), true);
    }

    private InvalidJsonException(long offset, String printableProblem, boolean unused) {
      super("invalid JSON at offset " + offset + ": " + printableProblem);
      this.offset = offset;
      this.problem = printableProblem;
    }

    /** Where the problem is: characters from the start, or bytes for byte input. */
    long offset() {
      return offset;
    }

    /** What is wrong, without the offset (for example "nesting deeper than 32"). */
    String problem() {
      return problem;
    }
  }

  /** An ordered map for building an object. */
  static Map<String, Object> object() {
    return new LinkedHashMap<>();
  }

  /**
   * Writes {@code object} as one line of JSON (no trailing newline). Maps become objects (keys by
   * their {@code toString()}), collections arrays; {@code Integer}, {@code Long} and finite {@code
   * Double} numbers; booleans and null themselves; anything else its {@code toString()} as a
   * string.
   *
   * @throws IllegalArgumentException if maps and collections nest deeper than {@value #MAX_DEPTH}
   */
  static String write(Map<String, ?> object) {
    StringBuilder out = new StringBuilder(256);
    appendValue(out, object, 1);
    return out.toString();
  }

  /**
   * The members of {@code fields} as JSON text without the braces, {@code "a":1,"b":2}: written
   * once and put into many objects with {@link ObjectWriter#members(String)}.
   *
   * @throws IllegalArgumentException if values nest deeper than {@value #MAX_DEPTH}
   */
  static String members(Map<String, ?> fields) {
    ObjectWriter writer = new ObjectWriter();
    fields.forEach(writer::put);
    String object = writer.end();
    return object.substring(1, object.length() - 1);
  }

  /**
   * One object written member by member, as {@link #write} writes a map: for records built on a
   * busy path, with no map in between.
   */
  static final class ObjectWriter {
    private final StringBuilder out = new StringBuilder(512).append('{');

    /** Adds the member {@code name}: {@code value}, written as {@link #write} writes values. */
    ObjectWriter put(String name, Object value) {
      separate();
      appendString(out, name);
      out.append(':');
      appendValue(out, value, 2);
      return this;
    }

    /** Adds members written by {@link Json#members}; nothing if they are empty. */
    ObjectWriter members(String members) {
      if (!members.isEmpty()) {
        separate();
        out.append(members);
      }
      return this;
    }

    private void separate() {
      if (out.length() > 1) {
        out.append(',');
      }
    }

    /** The object, as one line; the writer is not to be used after. */
    String end() {
      return out.append('}').toString();
    }
  }

  private static void appendValue(StringBuilder out, Object value, int depth) {
    switch (value) {
      case null -> out.append("null");
      case Boolean b -> out.append(b.booleanValue());
      case Integer i -> out.append(i.intValue());
      case Long l -> out.append(l.longValue());
      case Double d when Double.isFinite(d) -> out.append(d.doubleValue());
      case Map<?, ?> map -> {
        checkDepth(depth);
        out.append('{');
        boolean first = true;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          if (!first) {
            out.append(',');
          }
          first = false;
          appendString(out, String.valueOf(e.getKey()));
          out.append(':');
          appendValue(out, e.getValue(), depth + 1);
        }
        out.append('}');
      }
      case Collection<?> list -> {
        checkDepth(depth);
        out.append('[');
        boolean first = true;
        for (Object item : list) {
          if (!first) {
            out.append(',');
          }
          first = false;
          appendValue(out, item, depth + 1);
        }
        out.append(']');
      }
      default -> appendString(out, value.toString());
    }
  }

  private static void checkDepth(int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException(
          "cannot write JSON: nesting deeper than " + MAX_DEPTH + " objects and arrays");
    }
  }

  /**
   * {@code text} as a JSON string literal, escaped as {@link #appendString} escapes it.
   *
   * @param text any text
   * @return the literal, quotes included
   */
  public static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2);
    appendString(out, text);
    return out.toString();
  }

  /**
   * Appends {@code text} as a JSON string: JSON's own escapes, and DEL, the C1 controls and the
   * Unicode line and paragraph separators as {@code \}{@code uXXXX}, so that it never breaks a line
   * or reaches a terminal as a control sequence. Other characters are kept as they are.
   */
  static void appendString(StringBuilder out, String text) {
    out.append('"');
    int from = 0;
    int length = text.length();
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (c < 0x80 ? PLAIN[c] : c > 0x9F && (c | 1) != 0x2029) {
        continue; // most characters: copied with the run they are in
      }
      out.append(text, from, i);
      from = i + 1;
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          out.append("\\u");
          for (int shift = 12; shift >= 0; shift -= 4) {
            out.append(HEX[(c >> shift) & 0xF]);
          }
        }
      }
    }
    out.append(text, from, length).append('"');
  }

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** The ASCII characters a JSON string holds as they are. */
  private static final boolean[] PLAIN = new boolean[0x80];

  static {
    for (char c = 0x20; c < 0x7F; c++) {
      PLAIN[c] = c != '"' && c != '\\';
    }
  }

  /**
   * Parses one JSON value (and nothing after it but white space) within the limits above.
   *
   * @throws InvalidJsonException if the text is not valid JSON or over a limit; the offset counts
   *     characters
   */
  static Object parse(String text) {
    if (text.length() > MAX_DOCUMENT_LENGTH) {
      throw new InvalidJsonException(
          MAX_DOCUMENT_LENGTH, "longer than " + MAX_DOCUMENT_LENGTH + " characters");
    }
    try (JsonParser parser = FACTORY.createParser(text)) {
      try {
        JsonToken first = parser.nextToken();
        if (first == null) {
          throw new InvalidJsonException(0, "no value (empty or only white space)");
        }
        Object value = value(parser, first);
        JsonToken extra = parser.nextToken();
        if (extra != null) {
          throw new InvalidJsonException(
              offset(parser.currentTokenLocation()),
              "more after the value (" + extra.asString() + ")");
        }
        return value;
      } catch (JsonProcessingException e) {
        // A limit's exception has no location of its own: the parser stopped where it was hit.
        JsonLocation where = e.getLocation() != null ? e.getLocation() : parser.currentLocation();
        throw new InvalidJsonException(offset(where), problem(e));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // reading a String does not fail
    }
  }

  /**
   * Parses {@code length} bytes of UTF-8 JSON; as {@link #parse(String)}, but bytes that are not
   * UTF-8 are an error too, and offsets count bytes from {@code offset}.
   *
   * @throws InvalidJsonException if the bytes are not UTF-8, not valid JSON, or over a limit
   */
  static Object parse(byte[] bytes, int offset, int length) {
    if (length > MAX_DOCUMENT_LENGTH) {
      throw new InvalidJsonException(
          MAX_DOCUMENT_LENGTH, "longer than " + MAX_DOCUMENT_LENGTH + " bytes");
    }
    String text = strictUtf8(bytes, offset, length);
    try {
      return parse(text);
    } catch (InvalidJsonException e) {
      long at = Math.min(e.offset(), text.length());
      long byteOffset = text.substring(0, (int) at).getBytes(StandardCharsets.UTF_8).length;
      throw new InvalidJsonException(byteOffset, e.problem());
    }
  }

  private static String strictUtf8(byte[] bytes, int offset, int length) {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, offset, length);
    CharBuffer out = CharBuffer.allocate(length);
    CoderResult result = decoder.decode(in, out, true);
    if (!result.isError()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      throw new InvalidJsonException(
          in.position() - offset,
          String.format("not UTF-8 (byte 0x%02x)", bytes[in.position()] & 0xff));
    }
    return out.flip().toString();
  }

  private static Object value(JsonParser parser, JsonToken token) throws IOException {
    return switch (token) {
      case START_OBJECT -> {
        Map<String, Object> map = object();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
          String name = parser.currentName();
          map.put(name, value(parser, parser.nextToken()));
        }
        yield map;
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        JsonToken next;
        while ((next = parser.nextToken()) != JsonToken.END_ARRAY) {
          list.add(value(parser, next));
        }
        yield list;
      }
      case VALUE_STRING -> parser.getText();
      case VALUE_NUMBER_INT -> {
        if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
          throw new InvalidJsonException(
              offset(parser.currentTokenLocation()), "integer out of range: " + parser.getText());
        }
        yield parser.getLongValue();
      }
      case VALUE_NUMBER_FLOAT -> {
        double d = parser.getDoubleValue();
        if (!Double.isFinite(d)) {
          throw new InvalidJsonException(
              offset(parser.currentTokenLocation()), "number out of range: " + parser.getText());
        }
        yield d;
      }
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> null;
      default ->
          throw new InvalidJsonException(
              offset(parser.currentTokenLocation()), "unexpected " + token.asString());
    };
  }

  private static long offset(JsonLocation location) {
    if (location == null) {
      return 0;
    }
    return Math.max(0, location.getCharOffset());
  }

  /**
   * What Jackson adds to a message that is about Jackson rather than the input: where a constraint
   * comes from (", from `StreamReadConstraints.getMaxNestingDepth()`") and source locations
   * ("(start marker at [Source: REDACTED ...; line: 1, column: 1])"); the offset says where
   * instead.
   */
  private static final Pattern NOT_ABOUT_THE_INPUT =
      Pattern.compile(
          String.join(
              "|",
              ", from `[^`]*`",
              ": enable `[^`]*` to allow",
              "\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)",
              "\\s*at \\[Source:[^\\]]*\\]"));

  private static String problem(JsonProcessingException e) {
    String message = e.getOriginalMessage();
    if (message == null) {
      return e.getClass().getSimpleName();
    }
    message = NOT_ABOUT_THE_INPUT.matcher(message).replaceAll("");
    message = message.lines().findFirst().orElse(message).strip();
    return message.isEmpty()
        ? e.getClass().getSimpleName()
        : Character.toLowerCase(message.charAt(0)) + message.substring(1);
  }
}
