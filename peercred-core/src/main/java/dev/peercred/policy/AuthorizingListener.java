package dev.peercred.policy;

import dev.peercred.Listener;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.UnixSocketAddress;
import dev.peercred.internal.AcceptLoop;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A listener that hands out only the connections its {@link Policy} allows.
 *
 * <p>{@link #accept()} accepts from the wrapped {@link UnixListener}, decides with {@link
 * Policy#decide(dev.peercred.PeerIdentity)} (fail closed: an exception or an undecidable rule is a
 * denial), {@linkplain Audit records} every decision, and returns the first allowed connection. A
 * refused connection is counted ({@link #refusals()}) and handed to the refusal handler on a
 * virtual thread of its own, so that a refused peer that does not read cannot stall accepting; the
 * default handler sends the rejection message if there is one (the article's {@value
 * #UNAUTHORIZED}) and closes. At most {@value #MAX_PENDING_REFUSALS} refusals are handled at a
 * time; beyond that refused connections are closed at once, without the handler.
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = authorizing}
 *
 * <p>The policy runs on the thread that calls {@code accept()}, so a slow policy (a remote name
 * service) slows accepting; several threads may call {@code accept()} at once. {@link
 * #setPolicy(Policy)} replaces the policy for connections accepted from then on. Closing this
 * listener closes the wrapped one.
 *
 * @see dev.peercred.PeerIdentity
 */
public final class AuthorizingListener implements Listener {
  /** The article's rejection message, {@code "Unauthorized access\n"}. */
  public static final String UNAUTHORIZED = "Unauthorized access\n";

  /** How many refused connections may be handled at once. */
  public static final int MAX_PENDING_REFUSALS = 256;

  private static final System.Logger LOG = System.getLogger("dev.peercred");

  private final UnixListener listener;
  private volatile Policy policy;
  private final DecidedHandler refusalHandler;
  private final String endpoint;
  private final AtomicLong refusals = new AtomicLong();
  private final Semaphore pending = new Semaphore(MAX_PENDING_REFUSALS);

  private AuthorizingListener(Builder builder) {
    this.listener = builder.listener;
    this.policy = builder.policy;
    String message = builder.rejectionMessage;
    this.refusalHandler =
        builder.refusalHandler != null
            ? builder.refusalHandler
            : (connection, decision) -> connection.refuse(message);
    this.endpoint = listener.localAddress().toString();
  }

  /**
   * Wraps {@code listener}; refused connections are sent no message, only a clean end of stream.
   *
   * @param listener the listener to accept from; closed with this one
   * @param policy decides each connection
   * @return the authorizing listener
   * @throws NullPointerException if an argument is null
   */
  public static AuthorizingListener wrap(UnixListener listener, Policy policy) {
    return builder(listener, policy).build();
  }

  /**
   * Wraps {@code listener}; refused connections are sent {@code rejectionMessage} (for example
   * {@link #UNAUTHORIZED}) before they are closed.
   *
   * @param listener the listener to accept from; closed with this one
   * @param policy decides each connection
   * @param rejectionMessage what a refused peer reads before end of stream
   * @return the authorizing listener
   * @throws NullPointerException if an argument is null
   */
  public static AuthorizingListener wrap(
      UnixListener listener, Policy policy, String rejectionMessage) {
    return builder(listener, policy).rejectionMessage(rejectionMessage).build();
  }

  /**
   * Starts building an authorizing listener around {@code listener}.
   *
   * @param listener the listener to accept from; closed with the one built
   * @param policy decides each connection
   * @return a builder
   * @throws NullPointerException if an argument is null
   */
  public static Builder builder(UnixListener listener, Policy policy) {
    return new Builder(listener, policy);
  }

  /** Sets up an {@link AuthorizingListener}; see {@link #builder(UnixListener, Policy)}. */
  public static final class Builder {
    private final UnixListener listener;
    private final Policy policy;
    private String rejectionMessage = "";
    private DecidedHandler refusalHandler;

    private Builder(UnixListener listener, Policy policy) {
      this.listener = Objects.requireNonNull(listener, "listener");
      this.policy = Objects.requireNonNull(policy, "policy");
    }

    /**
     * Sends {@code message} to each refused peer before its end of stream (with {@link
     * UnixConnection#refuse(String)}), unless a {@linkplain #onRefusal refusal handler} is set.
     *
     * @param message the rejection message, for example {@link #UNAUTHORIZED}
     * @return this builder
     */
    public Builder rejectionMessage(String message) {
      this.rejectionMessage = Objects.requireNonNull(message, "message");
      return this;
    }

    /**
     * Handles refused connections with {@code handler} instead of sending the rejection message: to
     * answer in a protocol of the server's own, or to write an audit record of its own. The handler
     * runs on a virtual thread per refused connection and the connection is closed when it returns
     * or throws. The decision has already been {@linkplain Audit recorded}.
     *
     * @param handler handles one refused connection and its decision
     * @return this builder
     */
    public Builder onRefusal(DecidedHandler handler) {
      this.refusalHandler = Objects.requireNonNull(handler, "handler");
      return this;
    }

    /**
     * Builds the listener.
     *
     * @return the authorizing listener
     */
    public AuthorizingListener build() {
      return new AuthorizingListener(this);
    }
  }

  /** Handles a connection together with the policy's decision about it. */
  @FunctionalInterface
  public interface DecidedHandler {
    /**
     * Handles {@code connection}, which is closed when this method returns or throws.
     *
     * @param connection the accepted connection
     * @param decision what the policy decided about its peer
     * @throws IOException if the connection fails
     */
    void handle(UnixConnection connection, Decision decision) throws IOException;
  }

  /** An accepted connection and the (allowing) decision that let it in. */
  private record Admitted(UnixConnection connection, Decision decision) {}

  /**
   * Waits for a connection the policy allows and returns it; refused ones are dealt with as the
   * class description says and never returned.
   *
   * @throws java.nio.channels.ClosedChannelException if the listener is closed
   * @throws IOException as {@link UnixListener#accept()} does
   */
  @Override
  public UnixConnection accept() throws IOException {
    return admit().connection();
  }

  private Admitted admit() throws IOException {
    while (true) {
      UnixConnection connection = listener.accept();
      Decision decision;
      try {
        decision = policy.decide(connection.peerIdentity());
        Audit.connection(connection.peerIdentity(), decision, endpoint);
      } catch (RuntimeException | Error e) {
        connection.close();
        throw e;
      }
      if (decision.allowed()) {
        return new Admitted(connection, decision);
      }
      refusals.incrementAndGet();
      refuse(connection, decision);
    }
  }

  /**
   * Serves the allowed connections as {@link Listener#serve(ConnectionHandler)} does, passing each
   * handler the decision that let its connection in (for an audit record of the server's own).
   *
   * @param handler serves one allowed connection; called on a new virtual thread for each
   */
  public void serve(DecidedHandler handler) {
    Objects.requireNonNull(handler, "handler");
    AcceptLoop.run(
        this::admit,
        this::isOpen,
        Admitted::connection,
        admitted -> handler.handle(admitted.connection(), admitted.decision()));
  }

  private void refuse(UnixConnection connection, Decision decision) {
    if (!pending.tryAcquire()) {
      connection.close();
      return;
    }
    try {
      Thread.ofVirtual()
          .name("peercred-refuse")
          .start(
              () -> {
                try (connection) {
                  refusalHandler.handle(connection, decision);
                } catch (IOException e) {
                  LOG.log(Level.DEBUG, "refused connection {0}: {1}", connection, e.toString());
                } catch (RuntimeException e) {
                  LOG.log(Level.ERROR, "refusal handler failed for " + connection, e);
                } finally {
                  pending.release();
                }
              });
    } catch (RuntimeException | Error e) {
      pending.release();
      connection.close();
      throw e;
    }
  }

  /**
   * Puts {@code policy} in force for the connections accepted from now on; connections already
   * accepted are not touched. For a server that reloads its rules.
   *
   * @param policy the new policy
   * @throws NullPointerException if {@code policy} is null
   */
  public void setPolicy(Policy policy) {
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  /** How many connections were refused so far. */
  public long refusals() {
    return refusals.get();
  }

  /** The wrapped listener. */
  public UnixListener listener() {
    return listener;
  }

  /** The policy connections are checked against now. */
  public Policy policy() {
    return policy;
  }

  @Override
  public UnixSocketAddress localAddress() {
    return listener.localAddress();
  }

  /** True until closed. */
  @Override
  public boolean isOpen() {
    return listener.isOpen();
  }

  /**
   * Closes as {@link UnixListener#closeGracefully(Duration)} does, which covers refused connections
   * too (they are open until their refusal ends), then waits briefly for the refusal handlers of
   * connections closed at the deadline to return.
   */
  @Override
  public boolean closeGracefully(Duration timeout) throws InterruptedException {
    boolean finished = listener.closeGracefully(timeout);
    if (pending.tryAcquire(MAX_PENDING_REFUSALS, 1, TimeUnit.SECONDS)) {
      pending.release(MAX_PENDING_REFUSALS);
    }
    return finished;
  }

  /** Closes the wrapped listener; refusals in flight finish on their own. Idempotent. */
  @Override
  public void close() {
    listener.close();
  }

  @Override
  public String toString() {
    return "AuthorizingListener[" + listener + ", " + policy + "]";
  }
}
