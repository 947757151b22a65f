package dev.peercred.jetty;

import dev.peercred.PeerIdentity;
import dev.peercred.policy.Audit;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Lets a request through to the wrapped handler only if its caller's identity satisfies a {@link
 * Policy}, and hands that identity to the handlers it wraps as the request attribute {@value
 * #IDENTITY_ATTRIBUTE} (read it with {@link #identity(Request)}).
 *
 * {@snippet class = dev.peercred.examples.http.HttpWhoAmIServer region = handler}
 *
 * <p>A request the policy does not allow is answered {@code 403 Forbidden}, naming the caller and
 * the policy's reason, and the wrapped handler never sees it; a policy that throws or cannot decide
 * denies too ({@link Policy#decide}). A request without an identity (a connector without {@link
 * PeerIdentityListener}, or on TCP) is answered 403 as well, and logged as a misconfiguration.
 * Every denial is audited ({@link Audit#command}: a {@code dev.peercred.audit} log line and a
 * {@code dev.peercred.CommandDecision} JFR event whose command is the method and path); allowed
 * requests too with {@link #setAuditAllowed(boolean)}.
 *
 * <p>The policy runs for every request, on the thread that handles it (where Jetty allows
 * blocking), so policies that read names or {@code /proc} see the values of that moment.
 */
public class PeerAuthorizationHandler extends Handler.Wrapper {
  /** The request attribute holding the caller's {@link PeerIdentity}. */
  public static final String IDENTITY_ATTRIBUTE = "dev.peercred.PeerIdentity";

  private static final System.Logger LOG =
      System.getLogger(PeerAuthorizationHandler.class.getName());

  private final Policy policy;
  private volatile boolean auditAllowed;

  /**
   * Wraps no handler yet ({@link #setHandler(Handler)}).
   *
   * @throws NullPointerException if {@code policy} is null
   */
  public PeerAuthorizationHandler(Policy policy) {
    this(policy, null);
  }

  /**
   * Wraps {@code handler}, which serves the requests {@code policy} allows.
   *
   * @throws NullPointerException if {@code policy} is null
   */
  public PeerAuthorizationHandler(Policy policy, Handler handler) {
    super(handler);
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  /** The policy requests are checked against. */
  public Policy getPolicy() {
    return policy;
  }

  /** Also audits allowed requests (off by default: a busy server makes many). */
  public void setAuditAllowed(boolean audit) {
    auditAllowed = audit;
  }

  /**
   * Returns the identity of the caller of {@code request}, as set by a {@link
   * PeerAuthorizationHandler} that let it through.
   *
   * @throws IllegalStateException if the request has none: the handler asking is not wrapped by a
   *     {@code PeerAuthorizationHandler}
   */
  public static PeerIdentity identity(Request request) {
    if (Objects.requireNonNull(request, "request").getAttribute(IDENTITY_ATTRIBUTE)
        instanceof PeerIdentity identity) {
      return identity;
    }
    throw new IllegalStateException(
        "peercred: request "
            + request.getHttpURI().getPath()
            + " carries no caller identity. Is this handler wrapped by a"
            + " PeerAuthorizationHandler?");
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String command = request.getMethod() + " " + request.getHttpURI().getPath();
    Optional<PeerIdentity> caller = PeerIdentityListener.identity(request);
    if (caller.isEmpty()) {
      LOG.log(
          Level.WARNING,
          "refusing {0}: its connection carries no caller identity. Is the connector a"
              + " UnixDomainServerConnector with PeerIdentityListener.install(connector)?",
          command);
      Response.writeError(
          request,
          response,
          callback,
          HttpStatus.FORBIDDEN_403,
          "peercred: this connection carries no caller identity");
      return true;
    }
    PeerIdentity peer = caller.get();
    request.setAttribute(IDENTITY_ATTRIBUTE, peer);
    Decision decision = policy.decide(peer); // fails closed: a throw is an ERROR
    if (auditAllowed || !decision.allowed()) {
      Audit.command(
          peer,
          command,
          decision,
          String.valueOf(request.getConnectionMetaData().getLocalSocketAddress()));
    }
    if (!decision.allowed()) {
      Response.writeError(
          request,
          response,
          callback,
          HttpStatus.FORBIDDEN_403,
          "peercred: " + peer + " may not " + command + ": " + decision);
      return true;
    }
    return super.handle(request, response, callback);
  }

  @Override
  public String toString() {
    return "PeerAuthorizationHandler[" + policy + "]";
  }
}
