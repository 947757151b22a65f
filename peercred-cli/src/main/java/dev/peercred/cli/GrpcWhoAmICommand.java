package dev.peercred.cli;

import dev.peercred.examples.grpc.Caller;
import dev.peercred.examples.grpc.GrpcWhoAmI;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.OptionalLong;

/** {@code peercred grpc-whoami [SOCKET]}: asks a grpc-demo server who we are. */
final class GrpcWhoAmICommand implements Command {
  /** The first line of the description; a constant, so listing the command does not load it. */
  static final String SUMMARY =
      "Call WhoAmI on a 'peercred grpc-demo' server and print who the server says we are.";

  private static final Syntax.Arg<String> SOCKET =
      Syntax.socketParameter("/tmp/peercred-grpc.sock");

  private static final Syntax.Arg<Long> SERVER_UID =
      Syntax.option(
          "--server-uid", "UID", Syntax::number, "refuse the server unless it runs as this uid");

  private static final Syntax SYNTAX =
      Syntax.command(
              "grpc-whoami",
              SUMMARY,
              "Exit code 1 and the gRPC status on failure (e.g. PERMISSION_DENIED).")
          .args(SOCKET, SERVER_UID);

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err) throws Exception {
    String socket = args.value(SOCKET);
    Long serverUid = args.value(SERVER_UID);
    Path path = Main.socketPath("grpc-whoami", socket);
    try {
      Caller caller =
          GrpcWhoAmI.call(
              path, serverUid == null ? OptionalLong.empty() : OptionalLong.of(serverUid));
      out.println(caller.getSummary());
      return 0;
    } catch (StatusRuntimeException e) {
      String description = e.getStatus().getDescription();
      err.println(
          "peercred grpc-whoami: "
              + e.getStatus().getCode()
              + (description == null ? "" : ": " + description.lines().findFirst().orElse("")));
      return Main.EXIT_FAILURE;
    }
  }
}
