package dev.peercred.cli;

import dev.peercred.PeerCredentials;
import dev.peercred.SocketActivation;
import dev.peercred.SocketActivationException;
import dev.peercred.UnixListener;
import dev.peercred.examples.EchoServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/** {@code peercred echo [SOCKET]}: the article's echo server. */
final class EchoCommand implements Command {
  private static final Syntax.Arg<String> SOCKET = Syntax.socketParameter("/tmp/echo.sock");

  private static final Syntax SYNTAX =
      Syntax.command(
              "echo",
              "Echo every line back prefixed with '> ', to the user who started the server only.",
              "Any other user, root included, reads 'Unauthorized access' and is disconnected.",
              "A stale socket file left by a dead server is replaced; a live server's is not.",
              "Started by systemd socket activation (LISTEN_PID/LISTEN_FDS), it serves the"
                  + " inherited socket instead of binding: exactly one, or the one named 'echo' in"
                  + " LISTEN_FDNAMES.")
          .args(SOCKET);

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err) throws Exception {
    String socket = args.value(SOCKET);
    EchoServer server;
    if (SocketActivation.isInherited()) {
      server = new EchoServer(inheritedListener(), PeerCredentials.ofCurrentProcess().uid());
    } else {
      Path path = Main.socketPath("echo", socket);
      server = EchoServer.bind(path);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "echo-shutdown"));
    err.println(
        "peercred echo: listening on "
            + server.listener().localAddress()
            + "; answering uid "
            + PeerCredentials.ofCurrentProcess().uid()
            + " only (Ctrl-C stops)");
    server.run();
    return 0;
  }

  /** The one inherited socket, or the one named "echo"; errors name what is wrong. */
  private static UnixListener inheritedListener() throws java.io.IOException {
    List<String> names = SocketActivation.names();
    if (names.size() == 1) {
      return SocketActivation.listener(0);
    }
    if (names.contains("echo")) {
      return SocketActivation.listener("echo");
    }
    throw new SocketActivationException(
        SocketActivationException.Reason.NOT_FOUND,
        names.size()
            + " sockets were passed (LISTEN_FDNAMES="
            + String.join(":", names)
            + "); echo serves exactly one, or the one named 'echo'");
  }
}
