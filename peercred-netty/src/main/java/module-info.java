/**
 * Netty handlers that give every Unix domain socket channel its peer's identity, with the kernel's
 * guarantee, and refuse and audit connections by policy: {@link
 * dev.peercred.netty.PeerIdentityHandler} and {@link dev.peercred.netty.PeerAuthorizationHandler},
 * for Netty 4.2's epoll and io_uring domain-socket channels.
 *
 * <p>Run with {@code --enable-native-access=dev.peercred} (module path) or {@code
 * --enable-native-access=ALL-UNNAMED} (class path).
 */
module dev.peercred.netty {
  requires transitive dev.peercred;
  requires transitive io.netty.transport;
  requires transitive io.netty.common;
  requires io.netty.buffer;
  requires io.netty.transport.unix.common;

  exports dev.peercred.netty;
}
