package dev.peercred;

import java.io.IOException;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code PollerStartProbe}: uses up every descriptor the process may have, then makes a read wait,
 * which needs the read poller and so a descriptor for {@code epoll_create1}. Prints {@code
 * exhausted <errno>}, one {@code attempt <n> ...} line per read tried at the limit (the exception,
 * and the failed call and errno it carries), then frees a few descriptors and prints {@code
 * recovered <bytes read>} once a waiting read has worked. Started by {@link PollerStartTest} with a
 * low descriptor limit.
 */
public final class PollerStartProbe {
  private PollerStartProbe() {}

  public static void main(String[] args) throws Exception {
    // Runs from class directories, where every class loaded later needs a descriptor of its own
    // (from a jar it would not): load them all while descriptors are left.
    preloadPeercredClasses();
    ConnectionPair pair = UnixConnection.pair();
    UnixConnection reader = pair.first();
    List<ConnectionPair> filler = new ArrayList<>();
    try {
      while (true) {
        filler.add(UnixConnection.pair());
      }
    } catch (SocketException e) {
      System.out.println(
          "exhausted " + SystemCallError.of(e).map(SystemCallError::errnoName).orElse("?"));
    }
    for (int attempt = 1; attempt <= 2; attempt++) {
      System.out.print("attempt " + attempt + " ");
      try {
        reader.read(ByteBuffer.allocate(1));
        System.out.println("read without waiting");
      } catch (IOException | RuntimeException | Error e) {
        System.out.println(
            e.getClass().getName()
                + " ioexception="
                + (e instanceof IOException)
                + " "
                + SystemCallError.of(e)
                    .map(f -> "call=" + f.call() + " errno=" + f.errnoName())
                    .orElse("call=none")
                + " | "
                + e.getMessage());
      }
    }
    for (int i = 0; i < 4; i++) {
      filler.removeLast().close();
    }
    Thread main = Thread.currentThread();
    Thread writer =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  try {
                    // Write once the reader is parked in the poller, so that it had to wait.
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (main.getState() != Thread.State.WAITING) {
                      if (System.nanoTime() - deadline > 0) {
                        return;
                      }
                      Thread.onSpinWait();
                    }
                    pair.second().writeFully(new byte[] {42}, 0, 1);
                  } catch (IOException e) {
                    e.printStackTrace();
                  }
                });
    System.out.println("recovered " + reader.read(ByteBuffer.allocate(1)));
    writer.join();
    pair.close();
    filler.forEach(ConnectionPair::close);
  }

  /** Loads (without initializing) every class of peercred's main code. */
  private static void preloadPeercredClasses() throws Exception {
    Path root =
        Path.of(UnixListener.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = root.relativize(file).toString();
        if (name.endsWith(".class") && !name.endsWith("module-info.class")) {
          Class.forName(
              name.substring(0, name.length() - 6).replace('/', '.'),
              false,
              PollerStartProbe.class.getClassLoader());
        }
      }
    }
  }
}
