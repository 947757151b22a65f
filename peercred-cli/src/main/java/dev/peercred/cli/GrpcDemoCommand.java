package dev.peercred.cli;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixSocketAddress;
import dev.peercred.examples.grpc.GrpcDemoServer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code peercred grpc-demo [SOCKET]}: the gRPC demo server. */
@Command(
    name = "grpc-demo",
    mixinStandardHelpOptions = true,
    description = {
      "Serve gRPC on a Unix socket where every call knows its caller: peercred.demo.v1.Demo",
      "(WhoAmI, OwnerOnly), grpc.health.v1.Health and server reflection.",
      "Only the user who started the server may call, unless --allow-uid adds others;",
      "OwnerOnly stays owner-only. Others get PERMISSION_DENIED.",
      "Try: peercred grpc-whoami, or grpcurl -plaintext -unix SOCKET list"
    })
final class GrpcDemoCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "SOCKET",
      description = "socket path (default: ${DEFAULT-VALUE})",
      defaultValue = "/tmp/peercred-grpc.sock")
  String socket;

  @Option(
      names = "--allow-uid",
      paramLabel = "UID",
      description = "also allow this uid (repeatable); the server's own uid is always allowed")
  long[] allowUids = new long[0];

  @Override
  public Integer call() throws Exception {
    Path path =
        UnixSocketAddress.parse(socket)
            .path()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "grpc-demo needs a socket path, not an abstract name: " + socket));
    for (long uid : allowUids) {
      if (uid < 0 || uid > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("--allow-uid out of range 0..4294967295: " + uid);
      }
    }
    GrpcDemoServer server = GrpcDemoServer.start(path, allowUids);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "grpc-demo-shutdown"));
    long owner = PeerCredentials.ofCurrentProcess().uid();
    System.err.println(
        "peercred grpc-demo: listening on "
            + path
            + "; answering uid "
            + owner
            + (allowUids.length == 0 ? " only" : " and " + Arrays.toString(allowUids))
            + " (Ctrl-C stops)");
    server.server().awaitTermination();
    return 0;
  }
}
