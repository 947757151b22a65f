package dev.peercred.examples.grpc;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import dev.peercred.grpc.PeerAuthorization;
import dev.peercred.grpc.PeerIdentities;
import dev.peercred.grpc.UnixServerBuilder;
import dev.peercred.policy.Policy;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

/**
 * The gRPC demo server of {@code peercred grpc-demo}: the {@code peercred.demo.v1.Demo} service
 * ({@code WhoAmI} answers with the caller's identity as the server sees it; {@code OwnerOnly}
 * answers only the server's own user), the standard health service and server reflection, on a Unix
 * socket. By default only the server's own user may call anything (the same rule as the echo
 * server); more uids can be allowed, but never for {@code OwnerOnly}.
 */
public final class GrpcDemoServer implements AutoCloseable {
  private final Server server;
  private final HealthStatusManager health;

  private GrpcDemoServer(Server server, HealthStatusManager health) {
    this.server = server;
    this.health = health;
  }

  /**
   * Starts the demo on {@code socket}, allowing the server's own uid and {@code alsoAllowedUids}.
   *
   * @throws dev.peercred.AddressInUseException if a live server already listens there
   */
  public static GrpcDemoServer start(Path socket, long... alsoAllowedUids) throws IOException {
    long owner = PeerCredentials.ofCurrentProcess().uid();
    long[] allowed =
        LongStream.concat(LongStream.of(owner), Arrays.stream(alsoAllowedUids))
            .distinct()
            .toArray();
    return start(socket, Policy.uid(allowed));
  }

  /**
   * Starts the demo on {@code socket}: {@code policy} decides who may call (health and reflection
   * included), and {@code OwnerOnly} stays limited to the server's own uid.
   *
   * @throws dev.peercred.AddressInUseException if a live server already listens there
   */
  public static GrpcDemoServer start(Path socket, Policy policy) throws IOException {
    long owner = PeerCredentials.ofCurrentProcess().uid();
    HealthStatusManager health = new HealthStatusManager();
    // @start region = server
    Server server =
        UnixServerBuilder.forPath(socket)
            .addService(new DemoService()) // its methods read PeerIdentities.current()
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .addService(reflectionV1Alpha())
            .intercept(
                PeerAuthorization.builder()
                    .byDefault(policy)
                    .forMethod(DemoGrpc.getOwnerOnlyMethod(), Policy.uid(owner))
                    .build())
            .build()
            .start(); // replaces a dead server's socket file; a live server's fails
    // @end
    health.setStatus(DemoGrpc.SERVICE_NAME, ServingStatus.SERVING);
    return new GrpcDemoServer(server, health);
  }

  @SuppressWarnings("deprecation") // v1alpha: what many deployed grpcurl/grpc_cli versions ask for
  private static io.grpc.BindableService reflectionV1Alpha() {
    return ProtoReflectionService.newInstance();
  }

  /** The server, to wait on or inspect. */
  public Server server() {
    return server;
  }

  /** Marks the server not serving, stops it and removes its socket file; idempotent. */
  @Override
  public void close() {
    health.enterTerminalState();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** Builds the reply describing a caller. */
  static Caller describe(PeerIdentity caller) {
    return Caller.newBuilder()
        .setPid(caller.pid().orElse(0))
        .setUid(caller.uid())
        .setGid(caller.gid())
        .setSummary(caller.toString())
        .build();
  }

  private static final class DemoService extends DemoGrpc.DemoImplBase {
    // @start region = whoami
    @Override
    public void whoAmI(WhoAmIRequest request, StreamObserver<Caller> reply) {
      PeerIdentity caller = PeerIdentities.current(); // never null: no identity, no call
      reply.onNext(describe(caller));
      reply.onCompleted();
    } // @end

    @Override
    public void ownerOnly(OwnerOnlyRequest request, StreamObserver<OwnerOnlyReply> reply) {
      reply.onNext(
          OwnerOnlyReply.newBuilder()
              .setMessage(
                  "hello, owner ("
                      + PeerIdentities.current()
                      + ")"
                      + (request.getNote().isEmpty() ? "" : ": " + request.getNote()))
              .build());
      reply.onCompleted();
    }
  }
}
