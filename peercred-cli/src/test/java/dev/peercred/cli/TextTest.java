package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class TextTest {
  @Test
  void keepsPrintableTextAsItIs() {
    String text = "/usr/bin/zoë ✓ \uD83D\uDE00 tab-free";
    assertSame(text, Text.printable(text));
  }

  @Test
  void escapesWhatCouldChangeTheTerminalOrTheLine() {
    assertEquals("a\\u001b[31mb", Text.printable("a\u001b[31mb"));
    assertEquals("\\u000a\\u000d\\u0009\\u007f\\u009b", Text.printable("\n\r\t\u007f\u009b"));
    assertEquals("\\u202eevil\\u2028", Text.printable("\u202eevil\u2028"));
    assertEquals("lone \\ud800 \uD83D\uDE00", Text.printable("lone \uD800 \uD83D\uDE00"));
  }
}
