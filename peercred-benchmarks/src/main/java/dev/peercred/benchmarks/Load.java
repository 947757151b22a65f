package dev.peercred.benchmarks;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load generator's scenarios. Clients are JDK {@code SocketChannel}s in blocking mode on
 * platform threads, the same for every server; every echo is checked (a refusal fails the run).
 */
final class Load {
  private Load() {}

  /** 31 bytes and a newline: the line every scenario sends. */
  static final byte[] LINE = "peercred-benchmark-line-0123456\n".getBytes();

  static {
    if (LINE.length != 32) {
      throw new AssertionError(LINE.length);
    }
  }

  static SocketChannel open(Path socket) throws IOException {
    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return channel;
    } catch (IOException e) {
      channel.close();
      throw e;
    }
  }

  /** Sends {@link #LINE} and reads its echo, failing unless it is {@code "> " + LINE}. */
  static void roundTrip(SocketChannel channel, ByteBuffer reply) throws IOException {
    ByteBuffer out = ByteBuffer.wrap(LINE);
    while (out.hasRemaining()) {
      channel.write(out);
    }
    reply.clear().limit(LINE.length + 2);
    while (reply.hasRemaining()) {
      if (channel.read(reply) < 0) {
        throw new EOFException(
            "server closed the connection after "
                + reply.position()
                + " bytes: "
                + new String(reply.array(), 0, reply.position()).strip());
      }
    }
    byte[] r = reply.array();
    if (r[0] != '>' || r[1] != ' ' || r[LINE.length + 1] != '\n') {
      throw new IOException("unexpected echo: " + new String(r, 0, LINE.length + 2).strip());
    }
  }

  /** Runs {@code body} on {@code threads} platform threads until {@code nanos} pass. */
  private static void onThreads(int threads, Body body) throws IOException {
    List<Thread> started = new ArrayList<>();
    IOException[] failure = new IOException[1];
    for (int t = 0; t < threads; t++) {
      int index = t;
      started.add(
          Thread.ofPlatform()
              .name("load-" + t)
              .start(
                  () -> {
                    try {
                      body.run(index);
                    } catch (IOException e) {
                      synchronized (failure) {
                        failure[0] = e;
                      }
                    }
                  }));
    }
    for (Thread t : started) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    if (failure[0] != null) {
      throw failure[0];
    }
  }

  private interface Body {
    void run(int thread) throws IOException;
  }

  /**
   * Connect, one line, read the echo, close; as often as possible, and at least once per thread
   * however late it starts. Returns connections done.
   */
  static long connects(Path socket, int threads, long nanos) throws IOException {
    AtomicLong done = new AtomicLong();
    long end = System.nanoTime() + nanos;
    onThreads(
        threads,
        t -> {
          ByteBuffer reply = ByteBuffer.allocate(64);
          long n = 0;
          do {
            try (SocketChannel channel = open(socket)) {
              roundTrip(channel, reply);
            }
            n++;
          } while (System.nanoTime() < end);
          done.addAndGet(n);
        });
    return done.get();
  }

  /**
   * One-line round trips on held connections, at least one per client; returns every round trip's
   * latency in ns.
   */
  static long[] pingPong(Path socket, int clients, long nanos) throws IOException {
    long[][] samples = new long[clients][];
    SocketChannel[] channels = new SocketChannel[clients];
    try {
      for (int i = 0; i < clients; i++) {
        channels[i] = open(socket);
      }
      long end = System.nanoTime() + nanos;
      onThreads(
          clients,
          t -> {
            ByteBuffer reply = ByteBuffer.allocate(64);
            long[] mine = new long[1 << 16];
            int n = 0;
            long now = System.nanoTime();
            do {
              roundTrip(channels[t], reply);
              long after = System.nanoTime();
              if (n == mine.length) {
                mine = Arrays.copyOf(mine, n * 2);
              }
              mine[n++] = after - now;
              now = after;
            } while (now < end);
            samples[t] = Arrays.copyOf(mine, n);
          });
    } finally {
      for (SocketChannel c : channels) {
        if (c != null) {
          c.close();
        }
      }
    }
    long[] all = Arrays.stream(samples).flatMapToLong(Arrays::stream).toArray();
    Arrays.sort(all);
    return all;
  }

  /**
   * Streams {@code lineLength}-byte lines for {@code nanos} (at least one chunk of them) while
   * another thread reads the echo and checks it: every line sent must come back once, in order,
   * with {@code "> "} in front, or the scenario fails. Returns {bytes echoed back, elapsed ns}.
   */
  static long[] throughput(Path socket, int lineLength, long nanos) throws IOException {
    int lines = 16;
    byte[] chunk = new byte[lineLength * lines];
    for (int i = 0; i < chunk.length; i++) {
      chunk[i] = (i + 1) % lineLength == 0 ? (byte) '\n' : (byte) ('a' + i % 26);
    }
    // What one chunk's lines look like echoed; the echo of the whole stream repeats it.
    byte[] echo = new byte[(lineLength + 2) * lines];
    for (int l = 0; l < lines; l++) {
      echo[l * (lineLength + 2)] = '>';
      echo[l * (lineLength + 2) + 1] = ' ';
      System.arraycopy(chunk, l * lineLength, echo, l * (lineLength + 2) + 2, lineLength);
    }
    long[] received = new long[1];
    try (SocketChannel channel = open(socket)) {
      long start = System.nanoTime();
      long end = start + nanos;
      long[] sent = new long[1];
      IOException[] failure = new IOException[1];
      Thread reader =
          Thread.ofPlatform()
              .start(
                  () -> {
                    ByteBuffer in = ByteBuffer.allocate(256 * 1024);
                    byte[] bytes = in.array();
                    int at = 0; // where in `echo` the next byte received belongs
                    try {
                      while (true) {
                        in.clear();
                        int n = channel.read(in);
                        if (n < 0) {
                          return;
                        }
                        for (int i = 0; i < n; ) {
                          int k = Math.min(n - i, echo.length - at);
                          int bad = Arrays.mismatch(bytes, i, i + k, echo, at, at + k);
                          if (bad >= 0) {
                            throw new IOException(
                                "wrong echo at byte " + (received[0] + i + bad) + " of the stream");
                          }
                          i += k;
                          at = (at + k) % echo.length;
                        }
                        received[0] += n;
                      }
                    } catch (IOException e) {
                      failure[0] = e;
                    }
                  });
      ByteBuffer out = ByteBuffer.wrap(chunk);
      do {
        out.clear();
        while (out.hasRemaining()) {
          channel.write(out);
        }
        sent[0] += chunk.length;
      } while (System.nanoTime() < end);
      channel.shutdownOutput();
      try {
        reader.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      long elapsed = System.nanoTime() - start;
      if (failure[0] != null) {
        throw failure[0];
      }
      long linesSent = sent[0] / lineLength;
      long linesAnswered = received[0] / (lineLength + 2);
      if (received[0] != linesSent * (lineLength + 2)) {
        throw new IOException(
            linesAnswered
                + " of "
                + linesSent
                + " lines answered ("
                + received[0]
                + " bytes, expected "
                + linesSent * (lineLength + 2)
                + ")");
      }
      return new long[] {received[0], elapsed};
    }
  }
}
