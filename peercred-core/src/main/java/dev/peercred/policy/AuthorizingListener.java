package dev.peercred.policy;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A listener that hands out only the connections its {@link Policy} allows.
 *
 * <p>{@link #accept()} accepts from the wrapped {@link UnixListener}, decides with {@link
 * Policy#decide(dev.peercred.PeerIdentity)} (fail closed: an exception or an undecidable rule is a
 * denial), {@linkplain Audit records} every decision, and returns the first allowed connection. A
 * refused connection is counted ({@link #refusals()}), sent the rejection message if there is one
 * (the article's {@value #UNAUTHORIZED}) and closed; the message is written on a separate virtual
 * thread so that a refused peer that does not read cannot stall accepting. At most {@value
 * #MAX_PENDING_REFUSALS} refusals are written at a time; beyond that refused connections are closed
 * without a message.
 *
 * {@snippet :
 * try (var listener = AuthorizingListener.wrap(
 *     UnixListener.bind(Path.of("/tmp/echo.sock")), Policy.sameUser(), AuthorizingListener.UNAUTHORIZED)) {
 *   while (true) {
 *     UnixConnection connection = listener.accept(); // allowed peers only
 *     Thread.ofVirtual().start(() -> serve(connection));
 *   }
 * }
 * }
 *
 * <p>The policy runs on the thread that calls {@code accept()}, so a slow policy (a remote name
 * service) slows accepting; several threads may call {@code accept()} at once. Closing this
 * listener closes the wrapped one.
 *
 * @see dev.peercred.PeerIdentity
 */
public final class AuthorizingListener implements AutoCloseable {
  /** The article's rejection message, {@code "Unauthorized access\n"}. */
  public static final String UNAUTHORIZED = "Unauthorized access\n";

  /** How many rejection messages may be in flight at once. */
  public static final int MAX_PENDING_REFUSALS = 256;

  private final UnixListener listener;
  private final Policy policy;
  private final String rejectionMessage;
  private final String endpoint;
  private final AtomicLong refusals = new AtomicLong();
  private final Semaphore pending = new Semaphore(MAX_PENDING_REFUSALS);

  private AuthorizingListener(UnixListener listener, Policy policy, String rejectionMessage) {
    this.listener = Objects.requireNonNull(listener, "listener");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.rejectionMessage = rejectionMessage;
    this.endpoint = listener.localAddress().toString();
  }

  /** Wraps {@code listener}; refused connections are closed without a message. */
  public static AuthorizingListener wrap(UnixListener listener, Policy policy) {
    return new AuthorizingListener(listener, policy, null);
  }

  /**
   * Wraps {@code listener}; refused connections are sent {@code rejectionMessage} (for example
   * {@link #UNAUTHORIZED}) before they are closed.
   *
   * @throws NullPointerException if an argument is null
   */
  public static AuthorizingListener wrap(
      UnixListener listener, Policy policy, String rejectionMessage) {
    return new AuthorizingListener(
        listener, policy, Objects.requireNonNull(rejectionMessage, "rejectionMessage"));
  }

  /**
   * Waits for a connection the policy allows and returns it; refused ones are dealt with as the
   * class description says and never returned.
   *
   * @throws java.nio.channels.ClosedChannelException if the listener is closed
   * @throws IOException as {@link UnixListener#accept()} does
   */
  public UnixConnection accept() throws IOException {
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
        return connection;
      }
      refusals.incrementAndGet();
      refuse(connection);
    }
  }

  private void refuse(UnixConnection connection) {
    if (rejectionMessage == null || !pending.tryAcquire()) {
      connection.close();
      return;
    }
    try {
      Thread.ofVirtual()
          .name("peercred-refuse")
          .start(
              () -> {
                try {
                  connection.refuse(rejectionMessage);
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

  /** How many connections were refused so far. */
  public long refusals() {
    return refusals.get();
  }

  /** The wrapped listener. */
  public UnixListener listener() {
    return listener;
  }

  /** The policy connections are checked against. */
  public Policy policy() {
    return policy;
  }

  /** True until closed. */
  public boolean isOpen() {
    return listener.isOpen();
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
