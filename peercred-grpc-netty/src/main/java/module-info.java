/**
 * grpc-java over Unix domain sockets where every call knows, with the kernel's guarantee, which
 * process made it, for applications on grpc-netty (unshaded): the same API as peercred-grpc ({@link
 * dev.peercred.grpc.UnixServerBuilder}, {@link dev.peercred.grpc.PeerIdentities}, {@link
 * dev.peercred.grpc.PeerAuthorization}, {@link dev.peercred.grpc.UnixChannelBuilder}), built from
 * the same sources with grpc-netty-shaded's package prefixes removed. Use one of the two artifacts,
 * never both: they hold the same classes.
 *
 * <p>Built on grpc-netty's epoll domain-socket transport and Netty's own jars. Run it with {@code
 * --enable-native-access=dev.peercred} (module path) or {@code --enable-native-access=ALL-UNNAMED}
 * (class path).
 */
module dev.peercred.grpc.netty {
  requires transitive dev.peercred;
  requires transitive io.grpc;
  requires io.grpc.internal;
  requires io.grpc.netty;
  requires io.netty.common;
  requires io.netty.transport;
  requires io.netty.transport.unix.common;
  requires io.netty.transport.classes.epoll;

  exports dev.peercred.grpc;
}
