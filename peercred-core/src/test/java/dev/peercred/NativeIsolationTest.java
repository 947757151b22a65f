package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Only the internal Linux package may call native code. */
class NativeIsolationTest {
  @Test
  void onlyTheInternalLinuxPackageImportsJavaLangForeign() throws IOException {
    Path sources = Path.of("src/main/java");
    List<Path> offenders;
    try (var files = Files.walk(sources)) {
      offenders =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> !p.toString().contains("/internal/linux/"))
              .filter(
                  p ->
                      read(p).contains("import java.lang.foreign")
                          || read(p).contains("import static java.lang.foreign"))
              .toList();
    }
    assertEquals(List.of(), offenders);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
