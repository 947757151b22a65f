package dev.peercred;

import dev.peercred.internal.linux.LibC;
import dev.peercred.internal.linux.Lifecycle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * {@code NonBlockingProbe}: clears {@code O_NONBLOCK} on peercred's sockets, as another process
 * sharing an inherited socket could, and checks that no read, write or wait blocks in the kernel
 * where it would hold up the JVM. Prints one line per step, then {@code done}; a step that blocks
 * prints nothing more, and {@link NonBlockingTest} gives up on the process.
 */
public final class NonBlockingProbe {
  private NonBlockingProbe() {}

  public static void main(String[] args) throws Exception {
    try (ConnectionPair pair = UnixConnection.pair()) {
      UnixConnection a = pair.first();
      clearNonBlocking(a);

      a.setReadTimeout(Duration.ofMillis(300));
      System.out.println("read " + outcome(() -> a.read(ByteBuffer.allocate(16))));

      a.setWriteTimeout(Duration.ofMillis(300));
      byte[] chunk = new byte[64 * 1024];
      System.out.println(
          "write "
              + outcome(
                  () -> {
                    while (true) {
                      a.writeFully(chunk, 0, chunk.length); // until the socket buffer is full
                    }
                  }));

      a.setReadTimeout(Duration.ZERO);
      drain(pair.second());
      Thread reader =
          Thread.ofPlatform()
              .start(
                  () ->
                      System.out.println("close " + outcome(() -> a.read(ByteBuffer.allocate(1)))));
      awaitState(reader, Thread.State.WAITING);
      a.close();
      reader.join();
    }

    var name = UnixSocketAddress.ofAbstract("peercred-blocking-" + ProcessHandle.current().pid());
    try (UnixListener listener = UnixListener.bind(name, ListenerOptions.defaults())) {
      clearNonBlocking(listener);
      Thread acceptor =
          Thread.ofPlatform()
              .start(
                  () ->
                      System.out.println(
                          "accept "
                              + outcome(
                                  () -> {
                                    listener.accept().close();
                                    return "a connection";
                                  })));
      // accept4(2) on a blocking socket waits in the kernel; the JVM must still reach safepoints.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (Arrays.stream(acceptor.getStackTrace())
          .noneMatch(f -> f.getMethodName().equals("accept4"))) {
        if (System.nanoTime() - deadline > 0) {
          throw new AssertionError("the acceptor never called accept4");
        }
        Thread.onSpinWait();
      }
      System.gc();
      System.out.println("gc while accept4 waits");
      UnixConnection.connect(name, Duration.ZERO).close();
      acceptor.join();
    }
    System.out.println("done");
  }

  interface Step {
    Object run() throws IOException;
  }

  private static String outcome(Step step) {
    try {
      return "returned " + step.run();
    } catch (IOException e) {
      return e.getClass().getSimpleName();
    }
  }

  private static void clearNonBlocking(Object socket) {
    int fd = DescriptorBaseline.fdOf(socket);
    if (Lifecycle.setNonBlocking(fd, false) < 0
        || (LibC.getStatusFlags(fd) & LibC.O_NONBLOCK) != 0) {
      throw new AssertionError("could not clear O_NONBLOCK on fd " + fd);
    }
  }

  private static void drain(UnixConnection connection) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    connection.setReadTimeout(Duration.ofMillis(100));
    try {
      while (connection.inputStream().read(buffer) > 0) {
        // discard what the write step queued
      }
    } catch (java.net.SocketTimeoutException e) {
      // empty
    }
  }

  private static void awaitState(Thread thread, Thread.State state) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (thread.getState() != state) {
      if (System.nanoTime() - deadline > 0) {
        System.out.println(thread.getName() + " never reached " + state + ": " + thread.getState());
        System.exit(1);
      }
      Thread.onSpinWait();
    }
  }
}
