package dev.peercred.examples.grpc;

import dev.peercred.grpc.UnixChannelBuilder;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/** The client of {@code peercred grpc-whoami}: asks a demo server who we are. */
public final class GrpcWhoAmI {
  private GrpcWhoAmI() {}

  /**
   * Calls {@code WhoAmI} on the demo server at {@code socket}, first checking that the server runs
   * as {@code serverUid} when given.
   *
   * @throws io.grpc.StatusRuntimeException if the call fails (for example {@code
   *     PERMISSION_DENIED}, or {@code UNAVAILABLE} when the server is not who was expected)
   */
  public static Caller call(Path socket, OptionalLong serverUid) throws InterruptedException {
    UnixChannelBuilder builder = UnixChannelBuilder.forPath(socket);
    serverUid.ifPresent(builder::expectServerUid);
    ManagedChannel channel = builder.build();
    try {
      return DemoGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .whoAmI(WhoAmIRequest.getDefaultInstance());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
