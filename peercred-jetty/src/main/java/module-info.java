/**
 * Jetty 12 HTTP servers on Unix domain sockets whose handlers know, with the kernel's guarantee,
 * which process sent each request: {@link dev.peercred.jetty.PeerIdentityListener} reads the
 * identity of every connection a {@code UnixDomainServerConnector} accepts, and {@link
 * dev.peercred.jetty.PeerAuthorizationHandler} hands it to handlers and answers 403 to callers its
 * policy does not allow.
 *
 * <p>Run with {@code --enable-native-access=dev.peercred} and {@code --add-exports
 * java.base/sun.nio.ch=dev.peercred} on the module path ({@code =ALL-UNNAMED} for both on the class
 * path): the identity is read from the connector's JDK channels ({@link
 * dev.peercred.PeerIdentity#of(java.nio.channels.SocketChannel)}).
 */
module dev.peercred.jetty {
  requires transitive dev.peercred;
  requires transitive org.eclipse.jetty.server;
  requires org.eclipse.jetty.http;
  requires org.eclipse.jetty.io;
  requires org.eclipse.jetty.util;

  exports dev.peercred.jetty;
}
