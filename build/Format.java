import com.google.googlejavaformat.java.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Checks (or, with {@code apply}, fixes) the formatting of every Java source in the project with
 * google-java-format. The build runs it on the JDK 25 toolchain, not in Maven's own JVM: the
 * formatter parses with the JDK it runs on, and Maven may run on an older one.
 *
 * <p>Usage: {@code java -cp google-java-format-all-deps.jar build/Format.java ROOT check|apply}
 */
public final class Format {
  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !(args[1].equals("check") || args[1].equals("apply"))) {
      System.err.println("usage: Format ROOT check|apply");
      System.exit(64);
    }
    Path root = Path.of(args[0]);
    boolean apply = args[1].equals("apply");
    List<String> files = sources(root);
    List<String> formatterArgs = new ArrayList<>();
    formatterArgs.add(apply ? "--replace" : "--dry-run");
    if (!apply) {
      formatterArgs.add("--set-exit-if-changed");
    }
    formatterArgs.addAll(files);
    var out = new java.io.StringWriter();
    var err = new PrintWriter(System.err, true);
    int rc =
        new Main(new PrintWriter(out, true), err, System.in)
            .format(formatterArgs.toArray(String[]::new));
    err.flush(); // the formatter prints its parse errors without a line end that would flush them
    if (apply) {
      System.out.println("google-java-format: formatted " + files.size() + " files");
      System.exit(rc);
    }
    String unformatted = out.toString().strip();
    if (rc != 0 && !unformatted.isEmpty()) {
      System.err.println("These files are not formatted with google-java-format:");
      unformatted.lines().forEach(f -> System.err.println("  " + root.relativize(Path.of(f))));
      System.err.println("Run 'mvn -B validate -Dformat=apply' to format them.");
    }
    System.exit(rc);
  }

  /** Every .java file of the project; build output and hidden directories excluded. */
  private static List<String> sources(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.filter(p -> p.toString().endsWith(".java"))
          .filter(p -> isSource(root.relativize(p)))
          .map(Path::toString)
          .sorted()
          .toList();
    }
  }

  private static boolean isSource(Path relative) {
    for (Path part : relative) {
      String name = part.toString();
      if (name.equals("target") || name.startsWith(".")) {
        return false;
      }
    }
    return true;
  }
}
