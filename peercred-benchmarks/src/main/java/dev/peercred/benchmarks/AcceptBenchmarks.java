package dev.peercred.benchmarks;

import dev.peercred.Listener;
import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.policy.Audit;
import dev.peercred.policy.AuthorizingListener;
import dev.peercred.policy.Policy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What authorizing a connection adds to accepting it: a client connects, the server accepts, both
 * close; once through a plain {@link UnixListener}, once through an {@link AuthorizingListener}
 * whose policy checks the uid only. The difference is the decision and its audit record (a JFR
 * event that no recording takes, and the {@value Audit#LOGGER_NAME} log line, measured with the
 * logger off and at its default level writing to a discarded stream), and shows that a uid policy
 * reads nothing beyond {@code SO_PEERCRED}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class AcceptBenchmarks {
  /** Whether the audit logger writes its line for each allowed connection. */
  @Param({"off", "on"})
  public String auditLog;

  private Path dir;
  private Path socket;
  private UnixListener plain;
  private Listener authorizing;
  private UnixListener authorizingRaw;
  private Path authorizingSocket;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Logger audit = Logger.getLogger(Audit.LOGGER_NAME);
    audit.setUseParentHandlers(false);
    if (auditLog.equals("on")) {
      var handler =
          new java.util.logging.StreamHandler(
              java.io.OutputStream.nullOutputStream(), new java.util.logging.SimpleFormatter());
      audit.addHandler(handler);
      audit.setLevel(java.util.logging.Level.INFO);
    } else {
      audit.setLevel(java.util.logging.Level.OFF);
    }
    dir = Files.createTempDirectory("peercred-jmh-accept");
    socket = dir.resolve("plain.sock");
    plain = UnixListener.bind(socket);
    authorizingSocket = dir.resolve("authorizing.sock");
    authorizingRaw = UnixListener.bind(authorizingSocket);
    authorizing =
        AuthorizingListener.wrap(
            authorizingRaw, Policy.uid(PeerCredentials.ofCurrentProcess().uid()));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    plain.close();
    authorizing.close();
    Files.deleteIfExists(dir);
  }

  /** Connect, plain accept (SO_PEERCRED read before it returns), close both. */
  @Benchmark
  public long plainAccept() throws IOException {
    return roundTrip(socket, plain);
  }

  /** The same through an authorizing listener with a uid policy. */
  @Benchmark
  public long authorizingAcceptUidPolicy() throws IOException {
    return roundTrip(authorizingSocket, authorizing);
  }

  private static long roundTrip(Path path, Listener listener) throws IOException {
    try (UnixConnection client = UnixConnection.connect(path);
        UnixConnection server = listener.accept()) {
      return server.peerCredentials().uid() + client.peerCredentials().uid();
    }
  }
}
