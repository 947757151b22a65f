package dev.peercred.grpc;

import dev.peercred.PeerIdentity;
import dev.peercred.policy.Audit;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Authorizes every call by its caller's identity with a {@link Policy} per method, per service and
 * by default (the most specific one applies). A call the policy does not allow ends with {@code
 * PERMISSION_DENIED} and a description naming the caller, the method and the policy's reason; a
 * policy that throws or cannot decide denies too ({@link Policy#decide}); a call whose transport
 * has no identity ends with {@code UNAUTHENTICATED}. In every case the handler never runs.
 *
 * {@snippet class = dev.peercred.examples.grpc.snippets.GrpcSnippets region = authorization}
 *
 * <p>The policy is evaluated at the start of each call, on the call's executor, so policies that
 * read names or {@code /proc} see the values of that moment. Every denial is audited ({@link
 * dev.peercred.policy.Audit#command}: a log line and a JFR event); allowed calls too with {@link
 * Builder#auditAllowedCalls(boolean)}.
 */
public final class PeerAuthorization {
  private PeerAuthorization() {}

  /** Returns a builder whose default policy denies every call that no other policy covers. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects policies; then {@link #build()} returns the interceptor. Not thread-safe. */
  public static final class Builder {
    private Policy byDefault = Policy.anyOf(); // allows nobody
    private final Map<String, Policy> services = new HashMap<>();
    private final Map<String, Policy> methods = new HashMap<>();
    private boolean auditAllowed;

    private Builder() {}

    /**
     * Also audits allowed calls (off by default: a busy server makes many). Denied calls are always
     * audited: a {@code dev.peercred.audit} log line and a {@code dev.peercred.CommandDecision} JFR
     * event ({@link Audit#command}), whose command is the full method name and whose endpoint is
     * the server's socket.
     */
    public Builder auditAllowedCalls(boolean audit) {
      auditAllowed = audit;
      return this;
    }

    /** Sets the policy for methods that neither a method nor a service policy covers. */
    public Builder byDefault(Policy policy) {
      byDefault = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Sets the policy for every method of a service, by full name such as {@code pkg.Service}.
     *
     * @throws IllegalArgumentException if the name is empty or contains {@code /}
     */
    public Builder forService(String serviceName, Policy policy) {
      Objects.requireNonNull(serviceName, "serviceName");
      if (serviceName.isEmpty() || serviceName.contains("/")) {
        throw new IllegalArgumentException(
            "serviceName must be a full service name like 'pkg.Service': '" + serviceName + "'");
      }
      services.put(serviceName, Objects.requireNonNull(policy, "policy"));
      return this;
    }

    /**
     * Sets the policy for one method, by full name such as {@code pkg.Service/Method}.
     *
     * @throws IllegalArgumentException if the name has no {@code /}
     */
    public Builder forMethod(String fullMethodName, Policy policy) {
      Objects.requireNonNull(fullMethodName, "fullMethodName");
      if (MethodDescriptor.extractFullServiceName(fullMethodName) == null) {
        throw new IllegalArgumentException(
            "fullMethodName must look like 'pkg.Service/Method': '" + fullMethodName + "'");
      }
      methods.put(fullMethodName, Objects.requireNonNull(policy, "policy"));
      return this;
    }

    /** Sets the policy for one method. */
    public Builder forMethod(MethodDescriptor<?, ?> method, Policy policy) {
      return forMethod(Objects.requireNonNull(method, "method").getFullMethodName(), policy);
    }

    /** Returns the interceptor enforcing the policies collected so far. */
    public ServerInterceptor build() {
      return new Interceptor(byDefault, Map.copyOf(services), Map.copyOf(methods), auditAllowed);
    }
  }

  private record Interceptor(
      Policy byDefault,
      Map<String, Policy> services,
      Map<String, Policy> methods,
      boolean auditAllowed)
      implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      PeerIdentity caller = call.getAttributes().get(PeerIdentities.TRANSPORT_ATTR_PEER_IDENTITY);
      if (caller == null) {
        return refuse(call, PeerIdentities.noIdentity(call));
      }
      MethodDescriptor<ReqT, RespT> method = call.getMethodDescriptor();
      Policy policy = methods.get(method.getFullMethodName());
      if (policy == null) {
        policy = services.getOrDefault(method.getServiceName(), byDefault);
      }
      Decision decision = policy.decide(caller); // fails closed: a throw is an ERROR
      if (auditAllowed || !decision.allowed()) {
        Audit.command(
            caller,
            method.getFullMethodName(),
            decision,
            String.valueOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR)));
      }
      if (!decision.allowed()) {
        return refuse(
            call,
            Status.PERMISSION_DENIED.withDescription(
                "peercred: "
                    + caller
                    + " may not call "
                    + method.getFullMethodName()
                    + ": "
                    + decision));
      }
      return next.startCall(call, headers);
    }

    private static <ReqT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, ?> call, Status s) {
      call.close(s, new Metadata());
      return new ServerCall.Listener<>() {};
    }
  }
}
