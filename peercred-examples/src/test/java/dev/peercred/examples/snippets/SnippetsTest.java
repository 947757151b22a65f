package dev.peercred.examples.snippets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.policy.PolicyRules;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The published modules' API docs show only compiled code: no inline snippet or {@code <pre>} code
 * block in their main sources, and every snippet region they name exists in the examples.
 */
class SnippetsTest {
  /** The modules whose javadoc is published, with sources of their own in git. */
  private static final List<String> PUBLISHED =
      List.of(
          "peercred-core",
          "peercred-grpc",
          "peercred-grpc-netty",
          "peercred-netty",
          "peercred-jetty");

  /** Where {@code --snippet-path} (the root pom) looks for the files snippets name. */
  private static final List<String> SNIPPET_PATH =
      List.of("peercred-examples/src/main/java", "peercred-examples-grpc/src/main/java");

  private static final Pattern EXTERNAL =
      Pattern.compile(
          "\\{@snippet\\s+(class|file)\\s*=\\s*(\\S+?)(?:\\s+region\\s*=\\s*(\\S+?))?\\s*}");

  private static Path root() {
    Path root = Path.of("").toAbsolutePath().getParent();
    assertTrue(Files.isRegularFile(root.resolve("pom.xml")), "not run from a module of " + root);
    return root;
  }

  private static List<Path> mainSources(Path root) throws IOException {
    List<Path> sources = new ArrayList<>();
    for (String module : PUBLISHED) {
      Path dir = root.resolve(module).resolve("src/main/java");
      assertTrue(Files.isDirectory(dir), dir + " is missing");
      try (Stream<Path> walk = Files.walk(dir)) {
        walk.filter(p -> p.toString().endsWith(".java")).sorted().forEach(sources::add);
      }
    }
    return sources;
  }

  @Test
  void publishedDocsHaveNoInlineCodeExamples() throws IOException {
    List<String> inline = new ArrayList<>();
    for (Path source : mainSources(root())) {
      List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.matches(".*\\{@snippet\\s*:.*") || line.contains("<pre>{@code")) {
          inline.add(source + ":" + (i + 1) + ": " + line.strip());
        }
      }
    }
    assertEquals(
        List.of(),
        inline,
        "show compiled code: {@snippet class = ... region = ...} from peercred-examples");
  }

  @Test
  void everySnippetNamesAnExistingFileAndRegion() throws IOException {
    Path root = root();
    List<String> missing = new ArrayList<>();
    int snippets = 0;
    for (Path source : mainSources(root)) {
      Matcher m = EXTERNAL.matcher(Files.readString(source, StandardCharsets.UTF_8));
      while (m.find()) {
        snippets++;
        String file =
            m.group(1).equals("class") ? m.group(2).replace('.', '/') + ".java" : m.group(2);
        Path found = null;
        for (String dir : SNIPPET_PATH) {
          if (Files.isRegularFile(root.resolve(dir).resolve(file))) {
            found = root.resolve(dir).resolve(file);
          }
        }
        if (found == null) {
          missing.add(source.getFileName() + ": no " + file);
        } else if (m.group(3) != null
            && !Pattern.compile(
                    "//\\s*@start\\s+region\\s*=\\s*" + Pattern.quote(m.group(3)) + "\\s*$",
                    Pattern.MULTILINE)
                .matcher(Files.readString(found, StandardCharsets.UTF_8))
                .find()) {
          missing.add(source.getFileName() + ": no region " + m.group(3) + " in " + file);
        }
      }
    }
    assertTrue(snippets > 0, "no snippets found");
    assertEquals(List.of(), missing);
  }

  @Test
  void theRuleFileOfPolicyRulesParses() throws IOException {
    PolicyRules rules =
        PolicyRules.read(
            root()
                .resolve(SNIPPET_PATH.get(0))
                .resolve("dev/peercred/examples/snippets/backupd.rules"));
    assertEquals(4, rules.rules().size(), rules.toString());
    assertEquals(PolicyRules.Effect.DENY, rules.defaultEffect());
  }
}
