// Load generator and backend for benchmarking Unix-socket proxies (peercred proxy, socat).
// JDK only; run as a single-file program:
//
//   java ProxyBench.java serve SOCKET
//       backend: each connection sends an 8-byte big-endian length N; the server answers N bytes
//       and closes.
//   java ProxyBench.java throughput SOCKET MEGABYTES
//       one connection asking for MEGABYTES MiB; prints MB/s (10^6 bytes per second).
//   java ProxyBench.java connections SOCKET SECONDS THREADS
//       THREADS clients each connecting, asking for 64 bytes, reading to the end and closing, for
//       SECONDS; prints connections per second.
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

public class ProxyBench {
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "serve" -> serve(Path.of(args[1]));
      case "throughput" -> throughput(Path.of(args[1]), Long.parseLong(args[2]) << 20);
      case "connections" ->
          connections(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  static void serve(Path path) throws IOException {
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path), 4096);
    System.err.println("serving on " + path);
    while (true) {
      SocketChannel c = server.accept();
      Thread.ofVirtual().start(() -> answer(c));
    }
  }

  static void answer(SocketChannel c) {
    try (c) {
      ByteBuffer header = ByteBuffer.allocate(8);
      while (header.hasRemaining()) {
        if (c.read(header) < 0) {
          return;
        }
      }
      long remaining = header.flip().getLong();
      ByteBuffer data = ByteBuffer.allocateDirect(256 * 1024);
      while (remaining > 0) {
        data.clear().limit((int) Math.min(data.capacity(), remaining));
        remaining -= c.write(data);
      }
    } catch (IOException e) {
      // client went away
    }
  }

  static long fetch(Path path, long bytes, ByteBuffer buffer) throws IOException {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
      ByteBuffer header = ByteBuffer.allocate(8).putLong(bytes).flip();
      while (header.hasRemaining()) {
        c.write(header);
      }
      long got = 0;
      int n;
      while ((n = c.read(buffer.clear())) >= 0) {
        got += n;
      }
      return got;
    }
  }

  static void throughput(Path path, long bytes) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocateDirect(256 * 1024);
    fetch(path, 8 << 20, buffer); // warm up
    long start = System.nanoTime();
    long got = fetch(path, bytes, buffer);
    double seconds = (System.nanoTime() - start) / 1e9;
    if (got != bytes) {
      throw new IllegalStateException("got " + got + " of " + bytes + " bytes");
    }
    System.out.printf(
        "throughput %.0f MB/s (%d MiB in %.2f s)%n", got / seconds / 1e6, bytes >> 20, seconds);
  }

  static void connections(Path path, int seconds, int threads) throws Exception {
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    long warmEnd = System.nanoTime() + 1_000_000_000L;
    long end = warmEnd + seconds * 1_000_000_000L;
    Thread[] workers = new Thread[threads];
    for (int i = 0; i < threads; i++) {
      workers[i] =
          Thread.ofPlatform()
              .start(
                  () -> {
                    ByteBuffer buffer = ByteBuffer.allocate(1024);
                    long now;
                    while ((now = System.nanoTime()) < end) {
                      try {
                        long got = fetch(path, 64, buffer);
                        if (now >= warmEnd) {
                          (got == 64 ? done : failed).incrementAndGet();
                        }
                      } catch (IOException e) {
                        if (now >= warmEnd) {
                          failed.incrementAndGet();
                        }
                      }
                    }
                  });
    }
    for (Thread t : workers) {
      t.join();
    }
    System.out.printf(
        "connections %.0f/s (%d in %d s, %d threads, %d failed)%n",
        done.get() / (double) seconds, done.get(), seconds, threads, failed.get());
  }
}
