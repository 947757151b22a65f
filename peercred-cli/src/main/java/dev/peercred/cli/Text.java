package dev.peercred.cli;

/** Text from elsewhere (a server, a peer, a file) made safe to print on one terminal line. */
final class Text {
  private Text() {}

  /**
   * Returns {@code text} with every character that could end the line, move the cursor or start a
   * terminal escape sequence written as {@code \}{@code uXXXX}: control characters (C0, DEL, C1),
   * format characters (bidirectional overrides, zero-width joiners), the line and paragraph
   * separators, and lone surrogates. Everything else, non-ASCII letters included, is kept.
   */
  static String printable(String text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean pair =
          Character.isHighSurrogate(c)
              && i + 1 < text.length()
              && Character.isLowSurrogate(text.charAt(i + 1));
      if (pair) {
        if (out != null) {
          out.append(c).append(text.charAt(i + 1));
        }
        i++;
        continue;
      }
      if (isUnsafe(c)) {
        if (out == null) {
          out = new StringBuilder(text.length() + 16).append(text, 0, i);
        }
        out.append(String.format("\\u%04x", (int) c));
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? text : out.toString();
  }

  private static boolean isUnsafe(char c) {
    return switch (Character.getType(c)) {
      case Character.CONTROL,
          Character.FORMAT,
          Character.LINE_SEPARATOR,
          Character.PARAGRAPH_SEPARATOR,
          Character.SURROGATE ->
          true;
      default -> false;
    };
  }
}
