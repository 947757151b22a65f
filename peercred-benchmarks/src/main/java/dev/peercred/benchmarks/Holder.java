package dev.peercred.benchmarks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Holds idle connections in a process of its own (thousands of descriptors need their own budget;
 * the runner starts two for 19,000): {@code Holder SOCKET COUNT} opens COUNT connections, makes one
 * round trip on each (so the server has really taken it on), prints {@code held COUNT}, and keeps
 * them until standard input ends.
 */
public final class Holder {
  private Holder() {}

  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    int threads = 4;
    List<SocketChannel> held = Collections.synchronizedList(new ArrayList<>(count));
    List<Thread> openers = new ArrayList<>();
    Throwable[] failure = new Throwable[1];
    for (int t = 0; t < threads; t++) {
      int share = count / threads + (t < count % threads ? 1 : 0);
      openers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    ByteBuffer reply = ByteBuffer.allocate(64);
                    try {
                      for (int i = 0; i < share; i++) {
                        SocketChannel channel = Load.open(socket);
                        held.add(channel);
                        Load.roundTrip(channel, reply);
                      }
                    } catch (IOException | RuntimeException e) {
                      failure[0] = e;
                    }
                  }));
    }
    for (Thread t : openers) {
      t.join();
    }
    if (failure[0] != null) {
      System.out.println("failed after " + held.size() + ": " + failure[0]);
      System.out.flush();
      System.exit(1);
    }
    System.out.println("held " + held.size());
    System.out.flush();
    while (System.in.read() >= 0) {
      // wait for the runner to close our standard input
    }
    System.exit(0);
  }
}
