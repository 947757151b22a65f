/**
 * Example servers built on peercred, needing nothing but {@code dev.peercred}: the article's echo
 * server and the key-value daemon with tiered rights. The command-line tool runs them. The gRPC
 * demo is in its own module, {@code dev.peercred.examples.grpc}.
 */
module dev.peercred.examples {
  requires transitive dev.peercred;

  exports dev.peercred.examples;
}
