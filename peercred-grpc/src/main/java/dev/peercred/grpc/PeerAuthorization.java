package dev.peercred.grpc;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Authorizes every call by its caller's identity, with a rule per method, per service and by
 * default (the most specific one applies). A call the rule denies ends with {@code
 * PERMISSION_DENIED} and a description saying who was refused and why; a rule that throws denies
 * too; a call whose transport has no identity ends with {@code UNAUTHENTICATED}. In every case the
 * handler never runs.
 *
 * {@snippet :
 * ServerInterceptor authz = PeerAuthorization.builder()
 *     .byDefault(PeerAuthorization.sameUser())
 *     .forService("grpc.health.v1.Health", PeerAuthorization.allowAll())
 *     .forMethod("demo.Demo/OwnerOnly", PeerAuthorization.allowUids(0))
 *     .build();
 * Server server = UnixServerBuilder.forPath(path).addService(...).intercept(authz).build();
 * }
 */
public final class PeerAuthorization {
  private static final System.Logger LOG = System.getLogger(PeerAuthorization.class.getName());

  /**
   * An authorization rule: empty to allow the caller, or the reason to deny it. Any exception
   * denies the call.
   */
  @FunctionalInterface
  public interface Rule {
    /** Returns empty to allow {@code caller}, or a short reason why it may not call. */
    Optional<String> denialReason(PeerIdentity caller) throws Exception;
  }

  private PeerAuthorization() {}

  /** Returns a builder whose default rule denies every call that no other rule covers. */
  public static Builder builder() {
    return new Builder();
  }

  /** Returns a rule that allows every caller that has an identity. */
  public static Rule allowAll() {
    return caller -> Optional.empty();
  }

  /**
   * Returns a rule that allows only callers running as one of {@code uids} (effective uid, mapped
   * in this user namespace).
   */
  public static Rule allowUids(long... uids) {
    long[] allowed = uids.clone();
    for (long uid : allowed) {
      if (uid < 0 || uid > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("uid out of range 0..4294967295: " + uid);
      }
    }
    String list = Arrays.toString(allowed);
    return caller -> {
      for (long uid : allowed) {
        if (caller.credentials().hasUid(uid)) {
          return Optional.empty();
        }
      }
      return Optional.of("uid " + caller.uid() + " is not among the allowed uids " + list);
    };
  }

  /** Returns a rule that allows only callers running as this server's own effective uid. */
  public static Rule sameUser() {
    long self = PeerCredentials.ofCurrentProcess().uid();
    return caller ->
        caller.credentials().hasUid(self)
            ? Optional.empty()
            : Optional.of("only the server's own user (uid " + self + ") may call");
  }

  /** Collects rules; then {@link #build()} returns the interceptor. Not thread-safe. */
  public static final class Builder {
    private Rule byDefault = caller -> Optional.of("no rule allows this method");
    private final Map<String, Rule> services = new HashMap<>();
    private final Map<String, Rule> methods = new HashMap<>();

    private Builder() {}

    /** Sets the rule for methods that neither a method nor a service rule covers. */
    public Builder byDefault(Rule rule) {
      byDefault = Objects.requireNonNull(rule, "rule");
      return this;
    }

    /** Sets the rule for every method of a service, by full name such as {@code pkg.Service}. */
    public Builder forService(String serviceName, Rule rule) {
      Objects.requireNonNull(serviceName, "serviceName");
      if (serviceName.isEmpty() || serviceName.contains("/")) {
        throw new IllegalArgumentException(
            "serviceName must be a full service name like 'pkg.Service': '" + serviceName + "'");
      }
      services.put(serviceName, Objects.requireNonNull(rule, "rule"));
      return this;
    }

    /** Sets the rule for one method, by full name such as {@code pkg.Service/Method}. */
    public Builder forMethod(String fullMethodName, Rule rule) {
      Objects.requireNonNull(fullMethodName, "fullMethodName");
      if (MethodDescriptor.extractFullServiceName(fullMethodName) == null) {
        throw new IllegalArgumentException(
            "fullMethodName must look like 'pkg.Service/Method': '" + fullMethodName + "'");
      }
      methods.put(fullMethodName, Objects.requireNonNull(rule, "rule"));
      return this;
    }

    /** Sets the rule for one method. */
    public Builder forMethod(MethodDescriptor<?, ?> method, Rule rule) {
      return forMethod(Objects.requireNonNull(method, "method").getFullMethodName(), rule);
    }

    /** Returns the interceptor enforcing the rules collected so far. */
    public ServerInterceptor build() {
      return new Interceptor(byDefault, Map.copyOf(services), Map.copyOf(methods));
    }
  }

  private record Interceptor(Rule byDefault, Map<String, Rule> services, Map<String, Rule> methods)
      implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      PeerIdentity caller = call.getAttributes().get(PeerIdentities.TRANSPORT_ATTR_PEER_IDENTITY);
      if (caller == null) {
        return refuse(call, PeerIdentities.noIdentity(call));
      }
      MethodDescriptor<ReqT, RespT> method = call.getMethodDescriptor();
      Rule rule = methods.get(method.getFullMethodName());
      if (rule == null) {
        rule = services.getOrDefault(method.getServiceName(), byDefault);
      }
      Optional<String> denial;
      try {
        denial = Objects.requireNonNull(rule.denialReason(caller), "rule returned null");
      } catch (Exception e) { // fail closed
        LOG.log(Level.WARNING, "authorization rule failed for " + method.getFullMethodName(), e);
        denial = Optional.of("the authorization rule failed: " + e);
      }
      if (denial.isPresent()) {
        return refuse(
            call,
            Status.PERMISSION_DENIED.withDescription(
                "peercred: "
                    + caller
                    + " may not call "
                    + method.getFullMethodName()
                    + ": "
                    + denial.get()));
      }
      return next.startCall(call, headers);
    }

    private static <ReqT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, ?> call, Status s) {
      call.close(s, new Metadata());
      return new ServerCall.Listener<>() {};
    }
  }
}
