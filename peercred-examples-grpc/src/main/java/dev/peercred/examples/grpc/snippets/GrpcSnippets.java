package dev.peercred.examples.grpc.snippets;

import dev.peercred.grpc.PeerAuthorization;
import dev.peercred.grpc.UnixChannelBuilder;
import dev.peercred.grpc.UnixServerBuilder;
import dev.peercred.policy.Policy;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The code examples of peercred-grpc's API documentation that the demo ({@link
 * dev.peercred.examples.grpc.GrpcDemoServer}) does not show. Each region below (between a start
 * marker naming it and an end marker) is shown by a snippet tag naming this class and the region in
 * peercred-grpc's javadoc, so the examples compile against the current API and cannot drift from
 * it. Not an API; the package is not exported.
 */
final class GrpcSnippets {
  private GrpcSnippets() {}

  /** {@link UnixChannelBuilder}'s class description. */
  static ManagedChannel channel() {
    // @start region = channel
    ManagedChannel channel =
        UnixChannelBuilder.forPath(Path.of("/run/app/grpc.sock"))
            .expectServerUid(0) // a squatter running as uid 1000 fails
            .expectServerExecutable(Path.of("/usr/libexec/appd"))
            .build();
    // @end
    return channel;
  }

  /** {@link PeerAuthorization}'s class description. */
  static Server server(Path socket, BindableService service) throws IOException {
    // @start region = authorization
    ServerInterceptor authorization =
        PeerAuthorization.builder()
            .byDefault(Policy.sameUser())
            .forService("grpc.health.v1.Health", Policy.anyone())
            .forMethod("peercred.demo.v1.Demo/OwnerOnly", Policy.root())
            .build();
    Server server =
        UnixServerBuilder.forPath(socket).addService(service).intercept(authorization).build();
    // @end
    return server.start();
  }
}
