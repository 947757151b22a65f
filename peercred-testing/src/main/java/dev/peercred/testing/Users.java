package dev.peercred.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * Processes running as other users and in other namespaces: command prefixes for {@code setpriv}
 * and {@code unshare}, and the files such processes must be able to reach. The tests run as root; a
 * test that needs root or a missing tool is skipped with a reason.
 *
 * <pre>{@code
 * Users.openToEveryone(dir);           // a @TempDir is 0700
 * Users.openToEveryone(socket);
 * List<String> client = new ArrayList<>(Users.as(Users.NOBODY, Users.NOBODY));
 * client.addAll(List.of(Tools.python3().toString(), "-c", SCRIPT, socket.toString()));
 * }</pre>
 */
public final class Users {
  private Users() {}

  /** The overflow uid and gid, {@code nobody}/{@code nogroup}: a real unprivileged user. */
  public static final long NOBODY = 65534;

  public static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  public static final Path UNSHARE = Path.of("/usr/bin/unshare");

  /** Whether this JVM runs as root (effective uid 0). */
  public static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    throw new IllegalStateException("no Uid: line in /proc/self/status");
  }

  /** Skips the calling test, saying why, unless this JVM runs as root. */
  public static void assumeRoot() {
    Assumptions.assumeTrue(
        isRoot(),
        "SKIPPED: this test starts processes as other users (setpriv) or in other namespaces"
            + " (unshare) and needs root, as CI runs it");
  }

  /**
   * The prefix that runs a command as {@code uid}/{@code gid} with no supplementary groups; skips
   * the calling test unless this is root and {@code setpriv} is installed.
   */
  public static List<String> as(long uid, long gid) {
    return as(uid, gid, List.of());
  }

  /**
   * The prefix that runs a command as {@code uid}/{@code gid} with exactly {@code groups} as
   * supplementary groups (none if empty).
   */
  public static List<String> as(long uid, long gid, List<Long> groups) {
    assumeRoot();
    Tools.require(SETPRIV);
    List<String> prefix = new ArrayList<>();
    prefix.add(SETPRIV.toString());
    prefix.add("--reuid=" + uid);
    prefix.add("--regid=" + gid);
    if (groups.isEmpty()) {
      prefix.add("--clear-groups");
    } else {
      prefix.add("--groups=" + String.join(",", groups.stream().map(String::valueOf).toList()));
    }
    return prefix;
  }

  /**
   * The prefix that runs a command in new namespaces, {@code unshare OPTIONS...} (for example
   * {@code --pid --fork --mount-proc} or {@code --user --map-root-user}); skips the calling test
   * unless this is root and {@code unshare} is installed.
   */
  public static List<String> unshare(String... options) {
    assumeRoot();
    Tools.require(UNSHARE);
    List<String> prefix = new ArrayList<>();
    prefix.add(UNSHARE.toString());
    prefix.addAll(List.of(options));
    return prefix;
  }

  /**
   * Lets every user reach {@code path}: a directory (a {@code @TempDir} is created {@code 0700})
   * becomes {@code rwxr-xr-x}, anything else (a socket) {@code rwxrwxrwx}.
   */
  public static void openToEveryone(Path path) throws IOException {
    boolean directory = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
    Files.setPosixFilePermissions(
        path, PosixFilePermissions.fromString(directory ? "rwxr-xr-x" : "rwxrwxrwx"));
  }

  /**
   * This test JVM's class path as another user can read it: entries every user can already read are
   * kept, the others (jars under a private home directory's repository, for one) are copied into
   * {@code dir}, made world-readable. Copies made for an earlier call with the same {@code dir} are
   * reused.
   */
  public static String readableClassPath(Path dir) throws IOException {
    return String.join(File.pathSeparator, readableClassPathEntries(dir));
  }

  /** Like {@link #readableClassPath(Path)}, as a list of entries. */
  public static List<String> readableClassPathEntries(Path dir) throws IOException {
    return readable(dir, List.of(JavaCommand.testClassPath().split(File.pathSeparator)));
  }

  /**
   * A class path another user can read made of only the jars or directories {@code classes} come
   * from (this project's own, say), copied into {@code dir} where need be: quicker than the whole
   * test class path when the child needs no more.
   */
  public static String readableClassPathOf(Path dir, Class<?>... classes) throws IOException {
    List<String> entries = new ArrayList<>();
    for (Class<?> type : classes) {
      String location = location(type);
      if (!entries.contains(location)) {
        entries.add(location);
      }
    }
    return String.join(File.pathSeparator, readable(dir, entries));
  }

  private static String location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (java.net.URISyntaxException | NullPointerException e) {
      throw new IllegalArgumentException("no class path location for " + type, e);
    }
  }

  private static List<String> readable(Path dir, List<String> classPath) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    List<String> entries = new ArrayList<>();
    for (String entry : classPath) {
      Path source = Path.of(entry).toAbsolutePath();
      if (entry.isEmpty() || !Files.exists(source)) {
        continue;
      }
      if (everyoneCanRead(source)) {
        entries.add(source.toString());
        continue;
      }
      // Named after the whole source path: the same entry always gets the same copy.
      Path copy =
          dir.resolve(
              Integer.toHexString(source.toString().hashCode()) + "-" + source.getFileName());
      if (!Files.exists(copy)) {
        copyReadable(source, copy);
      }
      entries.add(copy.toString());
    }
    return entries;
  }

  private static boolean everyoneCanRead(Path path) throws IOException {
    for (Path dir = path.getParent(); dir != null; dir = dir.getParent()) {
      if (!Files.getPosixFilePermissions(dir).contains(PosixFilePermission.OTHERS_EXECUTE)) {
        return false;
      }
    }
    try (Stream<Path> all = Files.walk(path)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(p);
        if (!permissions.contains(PosixFilePermission.OTHERS_READ)
            || Files.isDirectory(p) && !permissions.contains(PosixFilePermission.OTHERS_EXECUTE)) {
          return false;
        }
      }
    }
    return true;
  }

  private static void copyReadable(Path source, Path target) throws IOException {
    try (Stream<Path> all = Files.walk(source)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        Path t = target.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
          Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
        } else {
          Files.createDirectories(t.getParent());
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
          Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-r--r--"));
        }
      }
    }
  }
}
