package dev.peercred.benchmarks;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import dev.peercred.internal.linux.LibC;
import dev.peercred.internal.linux.NativeSocket;
import dev.peercred.internal.linux.SocketAddresses;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import dev.peercred.policy.PolicyRules;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of reading a peer's credentials on an accepted Unix socket: peercred's public call, the
 * bare {@code getsockopt(SO_PEERCRED)} downcall it is built on (preallocated buffers, nothing
 * else), and the JDK's {@code getOption(SO_PEERCRED)} for comparison.
 *
 * <p>Then what costs more than the three numbers: the full identity of a raw descriptor
 * (credentials, supplementary groups, security label and the pidfd-pinned process), the same plus
 * the executable's path read and verified through the pinned process, and one decision of a typical
 * text policy on an identity already read.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class CredentialBenchmarks {
  private Path dir;
  private NativeSocket listener;
  private NativeSocket client;
  private int accepted;
  private final int[] ucred = new int[3];
  private final int[] length = new int[1];
  private ServerSocketChannel jdkServer;
  private SocketChannel jdkClient;
  private SocketChannel jdkAccepted;
  private PeerIdentity identity;
  private Policy policy;
  private Policy uidPolicy;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("peercred-jmh");
    Path path = dir.resolve("s.sock");
    byte[] sockaddr =
        SocketAddresses.forPath(path.toString().getBytes(SocketAddresses.FILE_NAME_CHARSET));
    listener = NativeSocket.openStream();
    listener.bindAndListen(sockaddr, sockaddr.length, 8, path.toString());
    client = NativeSocket.openStream();
    client.connect(sockaddr, sockaddr.length, 0, path.toString());
    accepted = listener.accept(new byte[SocketAddresses.SOCKADDR_UN_SIZE], new int[1]);

    Path jdkPath = dir.resolve("jdk.sock");
    jdkServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    jdkServer.bind(UnixDomainSocketAddress.of(jdkPath));
    jdkClient = SocketChannel.open(UnixDomainSocketAddress.of(jdkPath));
    jdkAccepted = jdkServer.accept();

    identity = PeerIdentity.read(accepted);
    identity.process().orElseThrow().executable(); // warm: the policy reads it through the pidfd
    policy =
        PolicyRules.parse(
            """
            deny uid 65534
            allow group docker
            allow exe /usr/bin/backup
            allow same-user
            """);
    uidPolicy = PolicyRules.parse("deny uid 65534\nallow same-user\n");
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    identity.close();
    LibC.close(accepted);
    client.close();
    listener.close();
    jdkAccepted.close();
    jdkClient.close();
    jdkServer.close();
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.delete(p);
      }
    }
    Files.delete(dir);
  }

  /** peercred's public call on a descriptor: {@code PeerCredentials.read(fd)}. */
  @Benchmark
  public PeerCredentials peercredRead() throws IOException {
    return PeerCredentials.read(accepted);
  }

  /** The floor: one {@code getsockopt(SO_PEERCRED)} downcall into preallocated arrays. */
  @Benchmark
  public int rawGetsockopt() {
    length[0] = LibC.UCRED_SIZE;
    int rc = LibC.getsockopt(accepted, LibC.SOL_SOCKET, LibC.SO_PEERCRED, ucred, length);
    return rc + ucred[1];
  }

  /** The JDK's way: {@code getOption(ExtendedSocketOptions.SO_PEERCRED)}, which gives names. */
  @Benchmark
  public UnixDomainPrincipal jdkGetOption() throws IOException {
    return jdkAccepted.getOption(ExtendedSocketOptions.SO_PEERCRED);
  }

  /** Everything at once from a raw descriptor: credentials, groups, label, pinned process. */
  @Benchmark
  public int fullIdentity() throws IOException {
    try (PeerIdentity id = PeerIdentity.read(accepted)) {
      return id.groups().size() + (id.process().isPresent() ? 1 : 0);
    }
  }

  /** The full identity plus the executable's path, read and verified through the pidfd. */
  @Benchmark
  public Object fullIdentityWithExecutable() throws IOException {
    try (PeerIdentity id = PeerIdentity.read(accepted)) {
      return id.process().orElseThrow().executable();
    }
  }

  /**
   * One decision of a policy on credentials alone: {@code deny uid 65534}, {@code allow same-user}.
   */
  @Benchmark
  public Decision policyDecisionOnCredentials() {
    return uidPolicy.decide(identity);
  }

  /**
   * One decision of a four-rule text policy that ends at {@code allow same-user}, passing a group
   * name (resolved through NSS) and an executable (read through the pinned process) on the way.
   */
  @Benchmark
  public Decision policyDecision() {
    return policy.decide(identity);
  }
}
