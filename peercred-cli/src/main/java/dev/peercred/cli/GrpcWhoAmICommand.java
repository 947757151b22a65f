package dev.peercred.cli;

import dev.peercred.examples.grpc.Caller;
import dev.peercred.examples.grpc.GrpcWhoAmI;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code peercred grpc-whoami [SOCKET]}: asks a grpc-demo server who we are. */
@Command(
    name = "grpc-whoami",
    mixinStandardHelpOptions = true,
    description = {
      GrpcWhoAmICommand.SUMMARY,
      "Exit code 1 and the gRPC status on failure (e.g. PERMISSION_DENIED)."
    })
final class GrpcWhoAmICommand implements Callable<Integer> {
  /** The first line of the description; a constant, so listing the command does not load it. */
  static final String SUMMARY =
      "Call WhoAmI on a 'peercred grpc-demo' server and print who the server says we are.";

  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "SOCKET",
      description = "socket path (default: ${DEFAULT-VALUE})",
      defaultValue = "/tmp/peercred-grpc.sock")
  String socket;

  @Option(
      names = "--server-uid",
      paramLabel = "UID",
      description = "refuse the server unless it runs as this uid")
  Long serverUid;

  @Override
  public Integer call() throws Exception {
    Path path = Main.socketPath("grpc-whoami", socket);
    try {
      Caller caller =
          GrpcWhoAmI.call(
              path, serverUid == null ? OptionalLong.empty() : OptionalLong.of(serverUid));
      System.out.println(caller.getSummary());
      return 0;
    } catch (StatusRuntimeException e) {
      String description = e.getStatus().getDescription();
      System.err.println(
          "peercred grpc-whoami: "
              + e.getStatus().getCode()
              + (description == null ? "" : ": " + description.lines().findFirst().orElse("")));
      return Main.EXIT_FAILURE;
    }
  }
}
