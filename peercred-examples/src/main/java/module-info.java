/** Example servers built on peercred; the command-line tool runs them. */
module dev.peercred.examples {
  requires transitive dev.peercred;
  requires transitive dev.peercred.grpc;
  requires transitive io.grpc;
  requires io.grpc.stub;
  requires io.grpc.protobuf;
  requires io.grpc.services;
  requires com.google.protobuf;
  requires com.google.common; // the generated future stubs

  exports dev.peercred.examples;
  exports dev.peercred.examples.grpc;
}
