/**
 * The gRPC demo of {@code peercred grpc-demo} and {@code peercred grpc-whoami}: the {@code
 * peercred.demo.v1.Demo} service with health checking and reflection, and its client, on {@code
 * dev.peercred.grpc}. Kept apart from {@code dev.peercred.examples} so that the plain examples, and
 * the command-line tool's other commands, never load gRPC.
 */
module dev.peercred.examples.grpc {
  requires transitive dev.peercred;
  requires transitive dev.peercred.grpc;
  requires io.grpc.stub;
  requires io.grpc.protobuf;
  requires io.grpc.services;
  requires com.google.protobuf;
  requires com.google.common; // the generated future stubs

  exports dev.peercred.examples.grpc;
}
