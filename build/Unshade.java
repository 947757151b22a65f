import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes the sources of peercred-grpc, which is built on grpc-netty-shaded, for grpc-netty (the
 * unshaded artifact): the same code with the shaded package prefixes removed, exactly as the shaded
 * jar relocated them. Run by peercred-grpc-netty's build; nothing it writes is kept in git.
 *
 * <p>{@code java build/Unshade.java FROM TO [OWN]}: copies every {@code .java} file under FROM to
 * TO with the prefixes rewritten, except {@code module-info.java}; then copies the files under OWN
 * (the unshaded module's own descriptor) unchanged. Fails if a shaded name is left, or if TO would
 * get a file that OWN also has.
 */
public final class Unshade {
  private Unshade() {}

  /** The relocations of grpc-netty-shaded, most specific first. */
  private static final String[][] RELOCATIONS = {
    {"io.grpc.netty.shaded.io.grpc.netty.", "io.grpc.netty."},
    {"io.grpc.netty.shaded.io.netty.", "io.netty."},
  };

  public static void main(String[] args) throws IOException {
    if (args.length < 2 || args.length > 3) {
      throw new IllegalArgumentException("usage: Unshade FROM TO [OWN]");
    }
    Path from = Path.of(args[0]);
    Path to = Path.of(args[1]);
    Path own = args.length == 3 ? Path.of(args[2]) : null;
    deleteTree(to);
    int rewritten = 0;
    for (Path source : javaFiles(from)) {
      Path relative = from.relativize(source);
      if (relative.getFileName().toString().equals("module-info.java")) {
        continue;
      }
      String text = Files.readString(source, StandardCharsets.UTF_8);
      String unshaded = text;
      for (String[] relocation : RELOCATIONS) {
        unshaded = unshaded.replace(relocation[0], relocation[1]);
      }
      if (unshaded.contains("io.grpc.netty.shaded")) {
        throw new IllegalStateException(
            source + " names io.grpc.netty.shaded in a way Unshade does not relocate");
      }
      if (!unshaded.equals(text)) {
        rewritten++;
      }
      write(to.resolve(relative), unshaded);
    }
    if (own != null && Files.isDirectory(own)) {
      for (Path source : javaFiles(own)) {
        Path target = to.resolve(own.relativize(source));
        if (Files.exists(target)) {
          throw new IllegalStateException(source + " would replace a file made from " + from);
        }
        write(target, Files.readString(source, StandardCharsets.UTF_8));
      }
    }
    System.out.println("Unshade: " + rewritten + " files relocated from " + from + " to " + to);
  }

  private static List<Path> javaFiles(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> walk = Files.walk(root)) {
      return new ArrayList<>(walk.filter(p -> p.toString().endsWith(".java")).sorted().toList());
    }
  }

  private static void write(Path target, String text) throws IOException {
    Files.createDirectories(target.getParent());
    Files.writeString(target, text, StandardCharsets.UTF_8);
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      walk.sorted((a, b) -> b.getNameCount() - a.getNameCount())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }
}
