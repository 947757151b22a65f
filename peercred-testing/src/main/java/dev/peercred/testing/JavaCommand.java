package dev.peercred.testing;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a child JVM that runs a class of the test class path, on this test JVM's own
 * {@code java}, with native access granted and a quick start-up (class data sharing, the client
 * compiler only).
 *
 * <pre>{@code
 * List<String> command = JavaCommand.main(LineClient.class).args(socket.toString()).toList();
 * List<String> asNobody = JavaCommand.main(LineClient.class)
 *     .classPath(Users.readableClassPath(dir)).args(socket.toString()).toList(Users.as(65534, 65534));
 * }</pre>
 */
public final class JavaCommand {
  private final String mainClass;
  private String classPath = System.getProperty("java.class.path");
  private final List<String> options = new ArrayList<>();
  private final List<String> args = new ArrayList<>();

  private JavaCommand(String mainClass) {
    this.mainClass = mainClass;
  }

  /** Runs {@code mainClass}'s {@code main}. */
  public static JavaCommand main(Class<?> mainClass) {
    return new JavaCommand(mainClass.getName());
  }

  /** Runs the {@code main} of the class named {@code mainClass}. */
  public static JavaCommand main(String mainClass) {
    return new JavaCommand(mainClass);
  }

  /** The {@code java} launcher of the JVM running this test. */
  public static Path java() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }

  /** The class path of this test JVM. */
  public static String testClassPath() {
    return System.getProperty("java.class.path");
  }

  /** The class path of the child (this test JVM's by default). */
  public JavaCommand classPath(String classPath) {
    this.classPath = classPath;
    return this;
  }

  /** The class path of the child, from its entries. */
  public JavaCommand classPath(List<String> entries) {
    return classPath(String.join(File.pathSeparator, entries));
  }

  /** JVM options, before the main class ({@code -Xmx64m}, {@code -Dname=value}). */
  public JavaCommand options(String... jvmOptions) {
    options.addAll(List.of(jvmOptions));
    return this;
  }

  /** Program arguments, after the main class. */
  public JavaCommand args(String... arguments) {
    args.addAll(List.of(arguments));
    return this;
  }

  /** The command line. */
  public List<String> toList() {
    List<String> command = new ArrayList<>();
    command.add(java().toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("-Xshare:auto");
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(options);
    command.add("-cp");
    command.add(classPath);
    command.add(mainClass);
    command.addAll(args);
    return command;
  }

  /** The command line run through {@code prefix} ({@link Users#as}, {@code prlimit ... --}). */
  public List<String> toList(List<String> prefix) {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(toList());
    return command;
  }
}
