package dev.peercred.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.peercred.PeerIdentity;
import io.grpc.Attributes;
import io.grpc.ManagedChannel;
import io.grpc.SecurityLevel;
import io.grpc.Server;
import io.grpc.ServerTransportFilter;
import io.grpc.internal.GrpcAttributes;
import io.grpc.internal.GrpcUtil;
import io.grpc.stub.ClientCalls;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fails loudly when a grpc-java upgrade breaks the internal protocol-negotiator API that {@code
 * PeerCredNegotiators} builds on. grpc marks that API {@code @Internal} with no compatibility
 * promise, so every grpc-java version must pass this class before it joins the tested range in
 * docs/grpc.md (and in {@link #TESTED}).
 */
@Timeout(120)
class GrpcInternalsTest {
  /** grpc-java versions this module has been tested with: a prefix match. */
  static final String TESTED = "1.85.";

  private static final String NETTY = "io.grpc.netty.shaded.io.grpc.netty.";

  @TempDir Path dir;

  @Test
  void grpcVersionIsInTheTestedRange() {
    String version = GrpcUtil.IMPLEMENTATION_VERSION;
    assertTrue(
        version.startsWith(TESTED),
        "grpc-java "
            + version
            + " is outside the tested range "
            + TESTED
            + "x of peercred-grpc. It builds on grpc-netty's @Internal protocol-negotiator API."
            + " Check the other tests of this class pass, then widen TESTED and docs/grpc.md.");
  }

  @Test
  void internalNegotiatorApiIsStillThere() throws Exception {
    expect(
        NETTY + "InternalNettyServerCredentials",
        "create",
        NETTY + "InternalProtocolNegotiator$ProtocolNegotiator");
    expect(
        NETTY + "InternalNettyChannelCredentials",
        "create",
        NETTY + "InternalProtocolNegotiator$ClientFactory");
    expect(
        NETTY + "InternalProtocolNegotiators",
        "waitUntilActiveHandler",
        "io.grpc.netty.shaded.io.netty.channel.ChannelHandler",
        "io.grpc.ChannelLogger");
    expect(
        NETTY + "InternalProtocolNegotiators",
        "grpcNegotiationHandler",
        NETTY + "GrpcHttp2ConnectionHandler");
    expect(
        NETTY + "InternalProtocolNegotiationEvent",
        "getAttributes",
        NETTY + "ProtocolNegotiationEvent");
    expect(
        NETTY + "InternalProtocolNegotiationEvent",
        "withAttributes",
        NETTY + "ProtocolNegotiationEvent",
        "io.grpc.Attributes");
    Class<?> handler =
        Class.forName(NETTY + "InternalProtocolNegotiators$ProtocolNegotiationHandler");
    for (String name :
        new String[] {
          "protocolNegotiationEventTriggered",
          "getProtocolNegotiationEvent",
          "replaceProtocolNegotiationEvent",
          "fireProtocolNegotiationEvent"
        }) {
      boolean found = false;
      for (Class<?> c = handler; c != null && !found; c = c.getSuperclass()) {
        for (Method m : c.getDeclaredMethods()) {
          found |= m.getName().equals(name) && Modifier.isProtected(m.getModifiers());
        }
      }
      assertTrue(
          found,
          "grpc-java "
              + GrpcUtil.IMPLEMENTATION_VERSION
              + ": ProtocolNegotiationHandler lost protected "
              + name
              + "(..)");
    }
    assertNotNull(GrpcAttributes.ATTR_SECURITY_LEVEL);
  }

  private static void expect(String className, String method, String... parameterTypes) {
    try {
      Class<?>[] types = new Class<?>[parameterTypes.length];
      for (int i = 0; i < types.length; i++) {
        types[i] = Class.forName(parameterTypes[i]);
      }
      Method m = Class.forName(className).getMethod(method, types);
      assertTrue(Modifier.isStatic(m.getModifiers()) && Modifier.isPublic(m.getModifiers()));
    } catch (ReflectiveOperationException e) {
      fail(
          "grpc-java "
              + GrpcUtil.IMPLEMENTATION_VERSION
              + " changed the internal API that"
              + " peercred-grpc's PeerCredNegotiators uses: "
              + className
              + "."
              + method
              + " "
              + e);
    }
  }

  @Test
  void negotiatedIdentityAndSecurityLevelReachTheTransport() throws Exception {
    CompletableFuture<Attributes> ready = new CompletableFuture<>();
    Path socket = dir.resolve("g.sock");
    Server server =
        UnixServerBuilder.forPath(socket)
            .addService(new TestService().definition())
            .addTransportFilter(
                new ServerTransportFilter() {
                  @Override
                  public Attributes transportReady(Attributes attributes) {
                    ready.complete(attributes);
                    return attributes;
                  }
                })
            .build()
            .start();
    ManagedChannel channel = UnixChannelBuilder.forPath(socket).build();
    try {
      ClientCalls.blockingUnaryCall(
          channel,
          TestService.WHO_AM_I,
          io.grpc.CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
          "hi");
      Attributes attributes = ready.get(60, TimeUnit.SECONDS);
      PeerIdentity peer = attributes.get(PeerIdentities.TRANSPORT_ATTR_PEER_IDENTITY);
      assertNotNull(
          peer,
          "grpc-java "
              + GrpcUtil.IMPLEMENTATION_VERSION
              + " no longer carries the negotiator's attributes to the transport: "
              + attributes);
      assertEquals(ProcessHandle.current().pid(), peer.pid().getAsLong());
      assertEquals(
          SecurityLevel.PRIVACY_AND_INTEGRITY,
          attributes.get(GrpcAttributes.ATTR_SECURITY_LEVEL),
          "a later handler in grpc's negotiation chain overwrote the security level");
    } finally {
      channel.shutdownNow();
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
