package dev.peercred.cli;

import dev.peercred.PeerCredentials;
import dev.peercred.examples.grpc.GrpcDemoServer;
import dev.peercred.policy.Policy;
import dev.peercred.policy.PolicyRules;
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
      GrpcDemoCommand.SUMMARY,
      "(WhoAmI, OwnerOnly), grpc.health.v1.Health and server reflection.",
      "Only the user who started the server may call, unless --allow-uid adds others or",
      "--policy replaces the rule; OwnerOnly stays owner-only. Others get PERMISSION_DENIED.",
      "Try: peercred grpc-whoami, or grpcurl -plaintext -unix SOCKET list"
    })
final class GrpcDemoCommand implements Callable<Integer> {
  /** The first line of the description; a constant, so listing the command does not load it. */
  static final String SUMMARY =
      "Serve gRPC on a Unix socket where every call knows its caller: peercred.demo.v1.Demo";

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

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description =
          "who may call, as policy rules (docs/policies.md), instead of the server's own"
              + " uid; --allow-uid uids are allowed as well")
  Path policyFile;

  @Override
  public Integer call() throws Exception {
    Path path = Main.socketPath("grpc-demo", socket);
    for (long uid : allowUids) {
      if (uid < 0 || uid > 0xFFFF_FFFFL) {
        throw new IllegalArgumentException("--allow-uid out of range 0..4294967295: " + uid);
      }
    }
    long owner = PeerCredentials.ofCurrentProcess().uid();
    Policy policy;
    String who;
    if (policyFile != null) {
      Policy rules = PolicyRules.read(policyFile);
      policy = allowUids.length == 0 ? rules : Policy.anyOf(Policy.uid(allowUids), rules);
      who =
          "callers allowed by "
              + policyFile
              + (allowUids.length == 0 ? "" : " and uids " + Arrays.toString(allowUids));
    } else {
      long[] allowed =
          java.util.stream.LongStream.concat(
                  java.util.stream.LongStream.of(owner), Arrays.stream(allowUids))
              .distinct()
              .toArray();
      policy = Policy.uid(allowed);
      who = "uid " + (allowed.length == 1 ? owner + " only" : Arrays.toString(allowed));
    }
    GrpcDemoServer server = GrpcDemoServer.start(path, policy);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "grpc-demo-shutdown"));
    System.err.println(
        "peercred grpc-demo: listening on " + path + "; answering " + who + " (Ctrl-C stops)");
    server.server().awaitTermination();
    return 0;
  }
}
