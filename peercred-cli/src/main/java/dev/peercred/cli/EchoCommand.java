package dev.peercred.cli;

import dev.peercred.UnixSocketAddress;
import dev.peercred.examples.EchoServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code peercred echo [SOCKET]}: the article's echo server. */
@Command(
    name = "echo",
    mixinStandardHelpOptions = true,
    description = {
      "Echo every line back prefixed with '> ', to the user who started the server only.",
      "Any other user, root included, reads 'Unauthorized access' and is disconnected.",
      "A stale socket file left by a dead server is replaced; a live server's is not."
    })
final class EchoCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "SOCKET",
      description = "socket path (default: ${DEFAULT-VALUE})",
      defaultValue = "/tmp/echo.sock")
  String socket;

  @Override
  public Integer call() throws Exception {
    Path path = UnixSocketAddress.parse(socket).path().orElseThrow(
        () -> new IllegalArgumentException("echo needs a socket path, not an abstract name: " + socket));
    EchoServer server = EchoServer.bind(path);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "echo-shutdown"));
    System.err.println(
        "peercred echo: listening on "
            + server.listener().localAddress()
            + "; answering uid "
            + dev.peercred.PeerCredentials.ofCurrentProcess().uid()
            + " only (Ctrl-C stops)");
    server.run();
    return 0;
  }
}
