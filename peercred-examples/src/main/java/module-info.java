/**
 * Example servers built on peercred; the command-line tool runs them.
 *
 * <p>The gRPC demo ({@code dev.peercred.examples.grpc}) needs grpc-java and protobuf, which the
 * other examples do not: they are optional here ({@code requires static}), so that the plain
 * examples run on a module path holding only {@code dev.peercred}. To run the gRPC demo as a
 * module, add its modules: {@code --add-modules dev.peercred.grpc,io.grpc.stub,io.grpc.protobuf,
 * io.grpc.services,com.google.protobuf,com.google.common} (the command-line tool uses the class
 * path and needs nothing). The HTTP demo ({@code dev.peercred.examples.http}) likewise needs {@code
 * dev.peercred.jetty} and Jetty's modules.
 */
module dev.peercred.examples {
  requires transitive dev.peercred;
  requires static dev.peercred.grpc;
  requires static io.grpc;
  requires static io.grpc.stub;
  requires static io.grpc.protobuf;
  requires static io.grpc.services;
  requires static com.google.protobuf;
  requires static com.google.common; // the generated future stubs
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
  exports dev.peercred.examples.grpc;
  exports dev.peercred.examples.http;
  exports dev.peercred.examples.jdk;
  exports dev.peercred.examples.netty;
}
