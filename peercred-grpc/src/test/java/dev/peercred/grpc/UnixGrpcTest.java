package dev.peercred.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import dev.peercred.policy.Policy;
import dev.peercred.testing.Await;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.LogLines;
import dev.peercred.testing.Users;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(300)
class UnixGrpcTest {
  @TempDir Path dir;

  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final TestService service = new TestService();

  private LogLines audit;

  @org.junit.jupiter.api.BeforeEach
  void captureAudit() {
    audit = LogLines.capture(dev.peercred.policy.Audit.LOGGER_NAME);
  }

  @AfterEach
  void close() throws InterruptedException {
    audit.close();
    for (ManagedChannel channel : channels) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server server : servers) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private Path start(ServerInterceptor... interceptors) throws Exception {
    Path socket = dir.resolve("grpc.sock");
    UnixServerBuilder builder = UnixServerBuilder.forPath(socket).addService(service.definition());
    for (ServerInterceptor interceptor : interceptors) {
      builder.intercept(interceptor);
    }
    servers.add(builder.build().start());
    return socket;
  }

  private ManagedChannel channel(UnixChannelBuilder builder) {
    ManagedChannel channel = builder.build();
    channels.add(channel);
    return channel;
  }

  private static String whoAmI(io.grpc.Channel channel) {
    return ClientCalls.blockingUnaryCall(
        channel,
        TestService.WHO_AM_I,
        CallOptions.DEFAULT.withDeadlineAfter(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS),
        "hi");
  }

  @Test
  void unaryCallSeesTheCallersPidUidAndGid() throws Exception {
    Path socket = start();
    ManagedChannel channel = channel(UnixChannelBuilder.forPath(socket));
    PeerCredentials me = PeerCredentials.ofCurrentProcess();
    assertEquals(me.pid().getAsLong() + " " + me.uid() + " " + me.gid(), whoAmI(channel));
    assertEquals(1, service.handled.get());
  }

  @Test
  void streamingCallSeesTheCallerOnEveryMessage() throws Exception {
    Path socket = start();
    ManagedChannel channel = channel(UnixChannelBuilder.forPath(socket));
    PeerCredentials me = PeerCredentials.ofCurrentProcess();
    String expected = me.pid().getAsLong() + " " + me.uid() + " " + me.gid();
    List<String> replies = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<String> requests =
        io.grpc.stub.ClientCalls.asyncBidiStreamingCall(
            channel.newCall(TestService.CHAT, CallOptions.DEFAULT),
            new StreamObserver<String>() {
              @Override
              public void onNext(String value) {
                replies.add(value);
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.complete(null);
              }
            });
    for (int i = 0; i < 5; i++) {
      requests.onNext("m" + i);
    }
    requests.onCompleted();
    done.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertEquals(5, replies.size());
    for (int i = 0; i < 5; i++) {
      assertEquals("m" + i + ": " + expected, replies.get(i));
    }
  }

  @Test
  void transportReportsPrivacyAndIntegrityAndDomainSocketAddresses() throws Exception {
    AtomicReference<ServerCall<?, ?>> seen = new AtomicReference<>();
    Path socket =
        start(
            new ServerInterceptor() {
              @Override
              public <Q, R> ServerCall.Listener<Q> interceptCall(
                  ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                seen.set(call);
                return next.startCall(call, headers);
              }
            });
    AtomicReference<PeerIdentity> serverSeenByClient = new AtomicReference<>();
    ClientInterceptor capture =
        new ClientInterceptor() {
          @Override
          public <Q, R> ClientCall<Q, R> interceptCall(
              io.grpc.MethodDescriptor<Q, R> method, CallOptions options, io.grpc.Channel next) {
            return new ForwardingClientCall.SimpleForwardingClientCall<>(
                next.newCall(method, options)) {
              @Override
              public void start(Listener<R> listener, Metadata headers) {
                super.start(
                    new io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                        listener) {
                      @Override
                      public void onHeaders(Metadata h) {
                        serverSeenByClient.set(
                            getAttributes().get(PeerIdentities.TRANSPORT_ATTR_PEER_IDENTITY));
                        super.onHeaders(h);
                      }
                    },
                    headers);
              }
            };
          }
        };
    whoAmI(channel(UnixChannelBuilder.forPath(socket).intercept(capture)));
    ServerCall<?, ?> call = seen.get();
    assertEquals(SecurityLevel.PRIVACY_AND_INTEGRITY, call.getSecurityLevel());
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    SocketAddress local = call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
    assertInstanceOf(DomainSocketAddress.class, remote);
    assertEquals(socket.toString(), ((DomainSocketAddress) local).path());
    PeerIdentity caller = PeerIdentities.fromCall(call).orElseThrow();
    assertEquals(ProcessHandle.current().pid(), caller.pid().getAsLong());
    PeerIdentity server = serverSeenByClient.get();
    assertEquals(ProcessHandle.current().pid(), server.pid().getAsLong());
  }

  @Test
  void policyDeniesWithPermissionDeniedAndTheHandlerNeverRuns() throws Exception {
    ServerInterceptor authz =
        PeerAuthorization.builder()
            .byDefault(Policy.sameUser())
            .forMethod(TestService.SECRET, Policy.uid(4_000_000_000L))
            .build();
    Path socket = start(authz);
    ManagedChannel channel = channel(UnixChannelBuilder.forPath(socket));
    whoAmI(channel); // default rule: same user, allowed
    StatusRuntimeException denied =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                ClientCalls.blockingUnaryCall(
                    channel, TestService.SECRET, CallOptions.DEFAULT, "x"));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
    assertTrue(
        denied.getStatus().getDescription().contains("may not call peercred.test.Peer/Secret"),
        denied.getStatus().getDescription());
    assertTrue(denied.getStatus().getDescription().contains("4000000000"));
    assertEquals(1, service.handled.get());
    assertTrue(
        audit.lines().stream()
            .anyMatch(
                line ->
                    line.startsWith("command peercred.test.Peer/Secret DENY")
                        && line.contains("endpoint=" + socket)),
        "audit lines: " + audit.lines());
    assertTrue(
        audit.lines().stream().noneMatch(line -> line.contains("WhoAmI")),
        "allowed calls: " + audit.lines());
  }

  @Test
  void ruleThatThrowsDenies() throws Exception {
    Path socket =
        start(
            PeerAuthorization.builder()
                .byDefault(
                    caller -> {
                      throw new java.io.IOException("policy store offline");
                    })
                .build());
    StatusRuntimeException denied =
        assertThrows(
            StatusRuntimeException.class,
            () -> whoAmI(channel(UnixChannelBuilder.forPath(socket))));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
    assertTrue(denied.getStatus().getDescription().contains("policy store offline"));
    assertEquals(0, service.handled.get());
  }

  /** A {@link CallerProcess} as {@code uid} (this user if null), with a class path it can read. */
  private ChildProcess startCaller(Long uid, Path socket, int channels, int calls)
      throws Exception {
    List<String> prefix = uid == null ? List.of() : Users.as(uid, uid);
    List<String> command =
        JavaCommand.main(CallerProcess.class)
            .classPath(Users.readableClassPath(dir.resolve("cp")))
            .args(socket.toString(), Integer.toString(channels), Integer.toString(calls))
            .toList(prefix);
    return ChildProcess.builder(command).directory(Path.of("/")).start();
  }

  /** What a caller printed: {@code SELF pid uid gid}, then one line per call. */
  private record Calls(ChildProcess.Result result) {
    String self() {
      return result.stdoutLines().stream()
          .filter(l -> l.startsWith("SELF "))
          .findFirst()
          .orElseThrow(() -> new AssertionError("caller printed no SELF line\n" + result))
          .substring(5);
    }

    List<String> answers() {
      return result.stdoutLines().stream().filter(l -> !l.startsWith("SELF ")).toList();
    }
  }

  /** Makes the socket's directory searchable and the socket connectable by every user. */
  private static void openToEveryone(Path socket) throws java.io.IOException {
    Users.openToEveryone(socket.getParent());
    Users.openToEveryone(socket);
  }

  @Test
  void callerRunningAsAnotherUserIsDeniedAndTheHandlerNeverRuns() throws Exception {
    Path socket = start(PeerAuthorization.builder().byDefault(Policy.sameUser()).build());
    openToEveryone(socket);
    try (ChildProcess caller = startCaller(Users.NOBODY, socket, 1, 2)) {
      Calls calls = new Calls(caller.assertExit(0));
      assertEquals(2, calls.answers().size(), calls.result().toString());
      for (String answer : calls.answers()) {
        assertTrue(answer.startsWith("STATUS PERMISSION_DENIED "), answer);
        assertTrue(answer.contains("uid=65534"), answer);
      }
      assertEquals(0, service.handled.get());
    }
  }

  @Test
  void concurrentCallsOnOneChannelAndAcrossChannelsEachSeeTheirOwnCaller() throws Exception {
    Path socket = start(PeerAuthorization.builder().byDefault(Policy.anyone()).build());
    openToEveryone(socket);
    List<ChildProcess> callers = new ArrayList<>();
    try {
      for (Long uid : new Long[] {null, 65534L, 65533L}) {
        callers.add(startCaller(uid, socket, 3, 20));
      }
      // Meanwhile, this process calls too, on one channel from many threads.
      ManagedChannel mine = channel(UnixChannelBuilder.forPath(socket));
      List<CompletableFuture<String>> myCalls = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        myCalls.add(CompletableFuture.supplyAsync(() -> whoAmI(mine)));
      }
      PeerCredentials me = PeerCredentials.ofCurrentProcess();
      String myView = me.pid().getAsLong() + " " + me.uid() + " " + me.gid();
      for (CompletableFuture<String> call : myCalls) {
        assertEquals(myView, call.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
      }
      java.util.Set<String> selves = new java.util.HashSet<>();
      for (ChildProcess caller : callers) {
        Calls calls = new Calls(caller.assertExit(0));
        assertEquals(60, calls.answers().size(), calls.result().toString());
        for (String answer : calls.answers()) {
          assertEquals("OK " + calls.self(), answer);
        }
        selves.add(calls.self());
      }
      assertEquals(3, selves.size(), "each caller is a distinct process: " + selves);
      assertEquals(50 + 3 * 60, service.handled.get());
    } finally {
      callers.forEach(ChildProcess::close);
    }
  }

  @Test
  void serverCheckPassesForTheRightServer() throws Exception {
    Path socket = start();
    PeerCredentials me = PeerCredentials.ofCurrentProcess();
    ManagedChannel channel =
        channel(
            UnixChannelBuilder.forPath(socket)
                .expectServerUid(me.uid())
                .expectServerExecutable(
                    Path.of(ProcessHandle.current().info().command().orElseThrow())));
    assertEquals(me.pid().getAsLong() + " " + me.uid() + " " + me.gid(), whoAmI(channel));
  }

  @Test
  void serverCheckFailsEveryCallWithUnavailableForAWrongUid() throws Exception {
    Path socket = start();
    ManagedChannel channel = channel(UnixChannelBuilder.forPath(socket).expectServerUid(4242));
    for (int i = 0; i < 2; i++) {
      StatusRuntimeException refused =
          assertThrows(StatusRuntimeException.class, () -> whoAmI(channel));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
      assertTrue(
          refused.getStatus().getDescription().contains("server expected to match 'uid 4242'"),
          refused.getStatus().toString());
    }
    assertEquals(0, service.handled.get());
  }

  @Test
  void serverCheckFailsForAWrongExecutable() throws Exception {
    Path socket = start();
    ManagedChannel channel =
        channel(UnixChannelBuilder.forPath(socket).expectServerExecutable(Path.of("/usr/bin/env")));
    StatusRuntimeException refused =
        assertThrows(StatusRuntimeException.class, () -> whoAmI(channel));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertTrue(
        refused
            .getStatus()
            .getDescription()
            .contains("server expected to match 'exe /usr/bin/env'"),
        refused.getStatus().toString());
    assertEquals(0, service.handled.get());
  }

  @Test
  void tcpServerWithTheInterceptorsRefusesEveryCall() throws Exception {
    Server tcp =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(service.definition())
            .intercept(PeerAuthorization.builder().byDefault(Policy.anyone()).build())
            .build()
            .start();
    servers.add(tcp);
    Server tcpIdentityOnly =
        Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
            .addService(service.definition())
            .intercept(PeerIdentities.newPeerIdentifyingServerInterceptor())
            .build()
            .start();
    servers.add(tcpIdentityOnly);
    for (Server server : List.of(tcp, tcpIdentityOnly)) {
      ManagedChannel channel =
          Grpc.newChannelBuilderForAddress(
                  "127.0.0.1", server.getPort(), InsecureChannelCredentials.create())
              .build();
      channels.add(channel);
      StatusRuntimeException refused =
          assertThrows(StatusRuntimeException.class, () -> whoAmI(channel));
      assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
      assertTrue(
          refused.getStatus().getDescription().contains("carries no peer identity"),
          refused.getStatus().toString());
    }
    assertEquals(0, service.handled.get());
  }

  @Test
  void identityIsNeverReadFromAChannelThatIsNotAUnixSocket() {
    var notUnix = new io.grpc.netty.shaded.io.netty.channel.embedded.EmbeddedChannel();
    try {
      java.io.IOException e =
          assertThrows(java.io.IOException.class, () -> PeerCredNegotiators.readPeer(notUnix));
      assertTrue(e.getMessage().contains("not a Unix domain socket channel"), e.getMessage());
    } finally {
      notUnix.close();
    }
  }

  @Test
  void currentOutsideACallIsUnauthenticated() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, PeerIdentities::current);
    assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
  }

  @Test
  void deadServersSocketFileIsReplacedAndALiveOneIsNot() throws Exception {
    Path socket = dir.resolve("grpc.sock");
    try (var stale =
        java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
      stale.bind(java.net.UnixDomainSocketAddress.of(socket));
    } // closed: the file stays, nobody listens
    start();
    assertThrows(
        dev.peercred.AddressInUseException.class,
        () -> UnixServerBuilder.forPath(socket).addService(service.definition()).build().start());
    assertTrue(
        whoAmI(channel(UnixChannelBuilder.forPath(socket)))
            .endsWith(
                PeerCredentials.ofCurrentProcess().uid()
                    + " "
                    + PeerCredentials.ofCurrentProcess().gid()));
  }
}
