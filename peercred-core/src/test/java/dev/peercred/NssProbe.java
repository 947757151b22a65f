package dev.peercred;

import dev.peercred.policy.Policy;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code NssProbe MODE GROUP_FILE}: runs where {@code GROUP_FILE} is bind-mounted over {@code
 * /etc/group}, started by {@link NssTest}.
 *
 * <p>{@code wait}: the file is a FIFO and the JVM has one carrier thread for virtual threads. A
 * virtual thread evaluates a group policy, whose name lookup ({@code getgrnam_r}) then waits in
 * {@code open(2)} of the group database for a writer. While it waits, another virtual thread must
 * still run: prints {@code carrier free} if it does, {@code carrier held} if not; then opens the
 * FIFO for writing, which ends the lookup, and prints {@code lookup done} and the decision.
 *
 * <p>{@code fail}: the file holds group {@code peercredhuge}, whose entry is larger than any buffer
 * peercred offers the C library. Prints what {@link ListenerOptions#withGroup(String)} and a group
 * policy make of the failed lookup, each on a platform and on a virtual thread.
 */
public final class NssProbe {
  private NssProbe() {}

  public static void main(String[] args) throws Exception {
    PeerIdentity peer;
    try (ConnectionPair pair = UnixConnection.pair()) {
      peer = pair.first().peerIdentity().prefetch();
    }
    if (args[0].equals("wait")) {
      lookupThatWaits(peer, args[1]);
    } else {
      for (boolean virtual : new boolean[] {false, true}) {
        Thread thread =
            (virtual ? Thread.ofVirtual() : Thread.ofPlatform())
                .start(
                    () -> {
                      String on = virtual ? "virtual " : "platform ";
                      try {
                        ListenerOptions.defaults().withGroup("peercredhuge");
                        System.out.println(on + "options returned");
                      } catch (RuntimeException e) {
                        System.out.println(on + "options " + e);
                      }
                      System.out.println(
                          on + "policy " + Policy.group("peercredhuge").decide(peer));
                    });
        thread.join();
      }
    }
  }

  private static void lookupThatWaits(PeerIdentity peer, String fifo) throws Exception {
    Thread lookup =
        Thread.ofVirtual()
            .start(
                () ->
                    System.out.println(
                        "lookup done " + Policy.group("peercredprobe").decide(peer).outcome()));
    awaitThreadOpeningAFifo();
    CountDownLatch ran = new CountDownLatch(1);
    Thread.ofVirtual().start(ran::countDown);
    System.out.println(ran.await(10, TimeUnit.SECONDS) ? "carrier free" : "carrier held");
    // Let the lookup go on: it gets a writer, then end of file (no such group).
    try (OutputStream groupFile = new FileOutputStream(fifo)) {
      groupFile.flush();
    }
    lookup.join();
  }

  /** Waits until some thread of this process is blocked opening a FIFO (the fake group file). */
  private static void awaitThreadOpeningAFifo() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
        for (Path task : (Iterable<Path>) tasks::iterator) {
          try {
            if (Files.readString(task.resolve("wchan")).equals("wait_for_partner")) {
              return;
            }
          } catch (IOException e) {
            // the thread ended meanwhile
          }
        }
      }
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("no thread started to read the group database");
      }
      Thread.onSpinWait();
    }
  }
}
