package dev.peercred.examples.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.grpc.UnixChannelBuilder;
import dev.peercred.testing.Await;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class GrpcDemoServerTest {
  @TempDir Path dir;
  private Path socket;
  private GrpcDemoServer server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    socket = dir.resolve("demo.sock");
    server = GrpcDemoServer.start(socket);
    channel = UnixChannelBuilder.forPath(socket).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
  }

  @Test
  void whoAmIAnswersWithTheCallersIdentity() throws Exception {
    PeerCredentials me = PeerCredentials.ofCurrentProcess();
    Caller caller = GrpcWhoAmI.call(socket, OptionalLong.of(me.uid()));
    assertEquals(me.pid().getAsLong(), caller.getPid());
    assertEquals(me.uid(), caller.getUid());
    assertEquals(me.gid(), caller.getGid());
    assertEquals(me.toString(), caller.getSummary());
  }

  @Test
  void ownerOnlyAnswersTheOwner() {
    OwnerOnlyReply reply =
        DemoGrpc.newBlockingStub(channel)
            .ownerOnly(OwnerOnlyRequest.newBuilder().setNote("hi").build());
    assertTrue(reply.getMessage().startsWith("hello, owner"), reply.getMessage());
  }

  @Test
  void healthCheckServesForAnAllowedCaller() {
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    assertEquals(
        HealthCheckResponse.ServingStatus.SERVING,
        health.check(HealthCheckRequest.getDefaultInstance()).getStatus());
    assertEquals(
        HealthCheckResponse.ServingStatus.SERVING,
        health
            .check(HealthCheckRequest.newBuilder().setService(DemoGrpc.SERVICE_NAME).build())
            .getStatus());
  }

  @Test
  void reflectionListsTheServices() throws Exception {
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    answer.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    answer.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    List<String> names =
        answer
            .get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS)
            .getListServicesResponse()
            .getServiceList()
            .stream()
            .map(ServiceResponse::getName)
            .toList();
    requests.onCompleted();
    assertTrue(names.contains("peercred.demo.v1.Demo"), names.toString());
    assertTrue(names.contains("grpc.health.v1.Health"), names.toString());
  }
}
