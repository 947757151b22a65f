/**
 * Example servers built on peercred: the article's echo server and the key-value daemon with tiered
 * rights, which need nothing but {@code dev.peercred}; the command-line tool runs them. The HTTP
 * demo ({@code dev.peercred.examples.http}) and the Netty echo server ({@code
 * dev.peercred.examples.netty}) also need {@code dev.peercred.jetty} or {@code dev.peercred.netty}
 * and their libraries, which are optional here ({@code requires static}) so that the plain examples
 * run on a module path holding only {@code dev.peercred}. The gRPC demo is in its own module,
 * {@code dev.peercred.examples.grpc}.
 */
module dev.peercred.examples {
  requires transitive dev.peercred;
  requires static dev.peercred.jetty;
  requires static org.eclipse.jetty.server;
  requires static org.eclipse.jetty.http;
  requires static org.eclipse.jetty.io;
  requires static org.eclipse.jetty.util;
  requires static org.eclipse.jetty.unixdomain.server;
  requires static dev.peercred.netty;
  requires static io.netty.transport;
  requires static io.netty.transport.classes.epoll;
  requires static io.netty.transport.unix.common;
  requires static io.netty.buffer;
  requires static io.netty.common;

  exports dev.peercred.examples;
  exports dev.peercred.examples.http;
  exports dev.peercred.examples.jdk;
  exports dev.peercred.examples.netty;
}
