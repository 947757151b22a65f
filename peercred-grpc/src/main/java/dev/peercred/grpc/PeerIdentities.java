package dev.peercred.grpc;

import dev.peercred.PeerIdentity;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Objects;
import java.util.Optional;

/**
 * The identity of the process on the other end of a gRPC call over a Unix domain socket, as the
 * kernel recorded it when that process connected ({@code SO_PEERCRED}, see {@code unix(7)}).
 *
 * <p>On a server built by {@link UnixServerBuilder} a handler reads its caller with one call:
 *
 * {@snippet class = dev.peercred.examples.grpc.GrpcDemoServer region = whoami}
 *
 * <p>The identity is read once per connection, before the connection's first call is accepted, and
 * is shared by every call on that connection. A connection whose identity cannot be read is closed.
 * Interceptors can read it from {@link ServerCall#getAttributes()} with {@link
 * #TRANSPORT_ATTR_PEER_IDENTITY} (or {@link #fromCall}); on a client made by {@link
 * UnixChannelBuilder} the same key on {@code ClientCall.getAttributes()} holds the server's
 * identity.
 */
public final class PeerIdentities {
  /**
   * The transport attribute holding the peer's identity, set for every connection of a {@link
   * UnixServerBuilder} server (the client's identity) and of a {@link UnixChannelBuilder} channel
   * (the server's identity). Absent on any other transport.
   */
  public static final Attributes.Key<PeerIdentity> TRANSPORT_ATTR_PEER_IDENTITY =
      Attributes.Key.create("dev.peercred.grpc.peer-identity");

  /**
   * The context key under which {@link #newPeerIdentifyingServerInterceptor()} puts the caller's
   * identity for the duration of a call.
   */
  public static final Context.Key<PeerIdentity> CONTEXT_KEY =
      Context.key("dev.peercred.grpc.peer-identity");

  private static final ServerInterceptor IDENTIFYING = new IdentifyingInterceptor();

  private PeerIdentities() {}

  /**
   * Returns the identity of the process that made the current call.
   *
   * @throws StatusRuntimeException with {@code UNAUTHENTICATED} if the current context carries no
   *     identity: called outside a call, on another thread without the call's context, or on a
   *     server without {@link #newPeerIdentifyingServerInterceptor()} (which {@link
   *     UnixServerBuilder} installs)
   */
  public static PeerIdentity current() {
    PeerIdentity peer = CONTEXT_KEY.get();
    if (peer == null) {
      throw Status.UNAUTHENTICATED
          .withDescription(
              "peercred: no caller identity in the current gRPC context. Is this code running"
                  + " outside a call (or on a thread without the call's Context), or on a server"
                  + " not built with UnixServerBuilder?")
          .asRuntimeException();
    }
    return peer;
  }

  /**
   * Returns the peer identity of a call's transport; empty if the transport has none (a server not
   * built by {@link UnixServerBuilder}, e.g. on TCP).
   */
  public static Optional<PeerIdentity> fromCall(ServerCall<?, ?> call) {
    Objects.requireNonNull(call, "call");
    return Optional.ofNullable(call.getAttributes().get(TRANSPORT_ATTR_PEER_IDENTITY));
  }

  /**
   * Returns the interceptor that puts the caller's identity under {@link #CONTEXT_KEY} for every
   * call, and ends with {@code UNAUTHENTICATED}, before the handler runs, every call whose
   * transport has no identity. {@link UnixServerBuilder#build()} adds it as the outermost
   * interceptor; add it yourself only on a server built another way.
   */
  public static ServerInterceptor newPeerIdentifyingServerInterceptor() {
    return IDENTIFYING;
  }

  /** The status for a call whose transport has no identity, naming the likely misuse. */
  static Status noIdentity(ServerCall<?, ?> call) {
    return Status.UNAUTHENTICATED.withDescription(
        "peercred: the transport of "
            + call.getMethodDescriptor().getFullMethodName()
            + " carries no peer identity. Is this server listening on something other than a Unix"
            + " domain socket (TCP, in-process), or built without UnixServerBuilder?");
  }

  private static final class IdentifyingInterceptor implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      PeerIdentity peer = call.getAttributes().get(TRANSPORT_ATTR_PEER_IDENTITY);
      if (peer == null) {
        call.close(noIdentity(call), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      return Contexts.interceptCall(
          Context.current().withValue(CONTEXT_KEY, peer), call, headers, next);
    }

    @Override
    public String toString() {
      return "PeerIdentities.newPeerIdentifyingServerInterceptor()";
    }
  }
}
