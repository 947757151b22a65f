/**
 * grpc-java over Unix domain sockets where every call knows, with the kernel's guarantee, which
 * process made it: {@link dev.peercred.grpc.UnixServerBuilder}, {@link
 * dev.peercred.grpc.PeerIdentities}, {@link dev.peercred.grpc.PeerAuthorization} and {@link
 * dev.peercred.grpc.UnixChannelBuilder}.
 *
 * <p>Built on grpc-netty-shaded's epoll domain-socket transport. Run it with {@code
 * --enable-native-access=dev.peercred} (module path) or {@code --enable-native-access=ALL-UNNAMED}
 * (class path).
 */
module dev.peercred.grpc {
  requires transitive dev.peercred;
  requires transitive io.grpc;
  requires io.grpc.internal;
  requires io.grpc.netty.shaded;

  exports dev.peercred.grpc;
}
