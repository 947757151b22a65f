package dev.peercred;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * {@code NativeAccessProbe SOCKET [initialize-all]}: with {@code initialize-all}, first initializes
 * every class of peercred's main code and prints {@code initialized <count>} or what failed; then
 * calls peercred's entry points twice each and prints one line per call, {@code <entry point> <call
 * number> ok} or {@code <entry point> <call number> <exception class> uoe=<is it an
 * UnsupportedOperationException> cause=<cause class> | <message>}. Started by {@link
 * NativeAccessTest} in JVMs that deny native access.
 */
public final class NativeAccessProbe {
  private NativeAccessProbe() {}

  interface Call {
    void run() throws Exception;
  }

  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args[0]);
    if (args.length > 1 && args[1].equals("initialize-all")) {
      initializeAll();
    }
    for (int call = 1; call <= 2; call++) {
      report("pair", call, () -> UnixConnection.pair().close());
      report("bind", call, () -> UnixListener.bind(socket).close());
      report("connect", call, () -> UnixConnection.connect(socket).close());
      report("read", call, () -> PeerCredentials.read(0));
      report("self", call, PeerCredentials::ofCurrentProcess);
      report("pinning", call, () -> System.out.print(PeerIdentity.canPinProcesses() + " "));
    }
    System.out.println("done");
  }

  private static void initializeAll() throws Exception {
    Path root =
        Path.of(UnixListener.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    int count = 0;
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = root.relativize(file).toString();
        if (name.endsWith(".class") && !name.endsWith("module-info.class")) {
          String className = name.substring(0, name.length() - 6).replace('/', '.');
          try {
            Class.forName(className, true, NativeAccessProbe.class.getClassLoader());
            count++;
          } catch (Throwable t) {
            System.out.println("initialization failed " + className + ": " + t);
          }
        }
      }
    }
    System.out.println("initialized " + count);
  }

  private static void report(String name, int call, Call body) {
    System.out.print(name + " " + call + " ");
    try {
      body.run();
      System.out.println("ok");
    } catch (Throwable t) {
      System.out.println(
          t.getClass().getName()
              + " uoe="
              + (t instanceof UnsupportedOperationException)
              + " cause="
              + (t.getCause() == null ? "none" : t.getCause().getClass().getName())
              + " | "
              + t.getMessage());
    }
  }
}
