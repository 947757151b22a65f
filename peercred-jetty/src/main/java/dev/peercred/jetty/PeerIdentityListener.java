package dev.peercred.jetty;

import dev.peercred.PeerIdentity;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Request;

/**
 * Reads the identity of the process on the other end of every connection a Jetty connector on a
 * Unix domain socket accepts ({@code UnixDomainServerConnector}), when the connection opens, and
 * keeps it until the connection closes; a connection whose identity cannot be read is closed before
 * it serves a request.
 *
 * {@snippet class = dev.peercred.examples.http.HttpWhoAmIServer region = connector}
 *
 * <p>The identity comes from the connection's JDK channel ({@link PeerIdentity#of(SocketChannel)}),
 * so the JVM needs {@code --add-exports java.base/sun.nio.ch=dev.peercred} ({@code =ALL-UNNAMED} on
 * the class path); without it every connection is closed and the log says which option is missing.
 *
 * <p>The read happens on the Jetty thread that opens the connection (a selector thread), and blocks
 * on nothing: a few {@code getsockopt} calls and one read of {@code /proc/PID/stat} to pin the
 * process. Names and the process's details are read later, only when a policy or a handler asks, on
 * the thread that handles the request. An identity is shared by every request of its connection,
 * and by the connections that replace it on the same socket (HTTP upgrades); its pidfd is closed
 * when the socket closes.
 */
public final class PeerIdentityListener implements Connection.Listener {
  private static final System.Logger LOG = System.getLogger(PeerIdentityListener.class.getName());

  private final Map<EndPoint, PeerIdentity> identities = new ConcurrentHashMap<>();

  private PeerIdentityListener() {}

  /**
   * Installs a listener on {@code connector} (as an event listener and bean), or returns the one
   * already installed. Install it before the connector starts: connections opened earlier have no
   * identity, and {@link PeerAuthorizationHandler} answers them 403.
   *
   * @throws NullPointerException if {@code connector} is null
   */
  public static PeerIdentityListener install(Connector connector) {
    Objects.requireNonNull(connector, "connector");
    synchronized (connector) {
      PeerIdentityListener existing = connector.getBean(PeerIdentityListener.class);
      if (existing != null) {
        return existing;
      }
      PeerIdentityListener listener = new PeerIdentityListener();
      connector.addEventListener(listener);
      return listener;
    }
  }

  /**
   * Returns the identity of the process that sent {@code request}; empty if the request came
   * through a connector without this listener (TCP, or not installed), or on a connection whose
   * identity was never read.
   */
  public static Optional<PeerIdentity> identity(Request request) {
    Objects.requireNonNull(request, "request");
    ConnectionMetaData connection = request.getConnectionMetaData();
    PeerIdentityListener listener = connection.getConnector().getBean(PeerIdentityListener.class);
    if (listener == null) {
      return Optional.empty();
    }
    return Optional.ofNullable(listener.identities.get(connection.getConnection().getEndPoint()));
  }

  /** How many open connections have an identity here. */
  public int size() {
    return identities.size();
  }

  @Override
  public void onOpened(Connection connection) {
    EndPoint endPoint = connection.getEndPoint();
    if (identities.containsKey(endPoint)) {
      return; // a connection upgraded on the same socket: same peer
    }
    try {
      if (!(endPoint.getTransport() instanceof SocketChannel channel)) {
        throw new IOException(
            "the connection's transport is not a JDK SocketChannel: " + endPoint.getTransport());
      }
      PeerIdentity identity = PeerIdentity.of(channel);
      PeerIdentity previous = identities.putIfAbsent(endPoint, identity);
      if (previous != null) {
        identity.close();
      }
      if (!endPoint.isOpen()) {
        forget(endPoint); // closed while we read: onClosed may have run before the put
      }
    } catch (IOException | RuntimeException e) {
      // Fail closed: a connection whose caller is unknown never serves a request.
      LOG.log(
          Level.WARNING,
          "closing connection {0}: cannot read the caller''s identity: {1}",
          endPoint.getRemoteSocketAddress(),
          e.toString());
      endPoint.close(e);
    }
  }

  @Override
  public void onClosed(Connection connection) {
    EndPoint endPoint = connection.getEndPoint();
    if (!endPoint.isOpen()) {
      forget(endPoint);
    }
  }

  private void forget(EndPoint endPoint) {
    PeerIdentity identity = identities.remove(endPoint);
    if (identity != null) {
      identity.close();
    }
  }

  @Override
  public String toString() {
    return "PeerIdentityListener[" + identities.size() + " connections]";
  }
}
