package dev.peercred.cli;

import dev.peercred.PeerCredentials;
import dev.peercred.examples.grpc.GrpcDemoServer;
import dev.peercred.policy.Policy;
import dev.peercred.policy.PolicyRules;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;

/** {@code peercred grpc-demo [SOCKET]}: the gRPC demo server. */
final class GrpcDemoCommand implements Command {
  /**
   * The summary in {@code peercred --help}; a constant, so listing the command does not load it.
   */
  static final String SUMMARY =
      "Serve gRPC on a Unix socket where every call knows its caller: peercred.demo.v1.Demo";

  private static final Syntax.Arg<String> SOCKET =
      Syntax.socketParameter("/tmp/peercred-grpc.sock");

  private static final Syntax.Arg<Long> ALLOW_UID =
      Syntax.option(
              "--allow-uid",
              "UID",
              Syntax::number,
              "also allow this uid (repeatable); the server's own uid is always allowed")
          .repeatable();

  private static final Syntax.Arg<Path> POLICY =
      Syntax.option(
          "--policy",
          "FILE",
          Syntax::path,
          "who may call, as policy rules (docs/policies.md), instead of the server's own"
              + " uid; --allow-uid uids are allowed as well");

  private static final Syntax SYNTAX =
      Syntax.command(
              "grpc-demo",
              SUMMARY + " (WhoAmI, OwnerOnly), grpc.health.v1.Health and server reflection.",
              "Only the user who started the server may call, unless --allow-uid adds others or"
                  + " --policy replaces the rule; OwnerOnly stays owner-only. Others get"
                  + " PERMISSION_DENIED.",
              "Try: peercred grpc-whoami, or grpcurl -plaintext -unix SOCKET list")
          .args(SOCKET, ALLOW_UID, POLICY);

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err) throws Exception {
    String socket = args.value(SOCKET);
    long[] allowUids = args.values(ALLOW_UID).stream().mapToLong(Long::longValue).toArray();
    Path policyFile = args.value(POLICY);
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
    err.println(
        "peercred grpc-demo: listening on " + path + "; answering " + who + " (Ctrl-C stops)");
    server.server().awaitTermination();
    return 0;
  }
}
