package dev.peercred.cli;

import dev.peercred.PeerCredentials;
import dev.peercred.examples.KvServer;
import dev.peercred.policy.Policy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/** {@code peercred kv [SOCKET] --readers ... --writers ...}: the tiered key-value daemon. */
final class KvCommand implements Command {
  private static final Syntax.Arg<String> SOCKET = Syntax.socketParameter("/tmp/kv.sock");

  private static final Syntax.Arg<String> READERS =
      Syntax.option(
              "--readers",
              "GROUP_OR_UID",
              Syntax::text,
              "who may get (default: nobody besides the writers); repeatable")
          .split(",");

  private static final Syntax.Arg<String> WRITERS =
      Syntax.option(
              "--writers",
              "GROUP_OR_UID",
              Syntax::text,
              "who may get and set (default: the user running the server); repeatable")
          .split(",");

  private static final Syntax SYNTAX =
      Syntax.command(
              "kv",
              "A key-value daemon with tiered rights: readers may 'get KEY', writers may also"
                  + " 'set KEY VALUE'; anyone else reads 'Unauthorized access' and is"
                  + " disconnected.",
              "Every connection and command is logged with the peer's uid, gid, pid and"
                  + " executable (logger dev.peercred.audit) and recorded as JFR events.",
              "A principal is a uid (1000), user:NAME, group:NAME or a plain group NAME;"
                  + " names are resolved at each check.")
          .args(SOCKET, READERS, WRITERS);

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err) throws Exception {
    String socket = args.value(SOCKET);
    List<String> readers = args.values(READERS);
    List<String> writers = args.values(WRITERS);
    Path path = Main.socketPath("kv", socket);
    Policy readerPolicy = KvServer.principals(readers);
    Policy writerPolicy =
        writers.isEmpty()
            ? Policy.uid(PeerCredentials.ofCurrentProcess().uid())
            : KvServer.principals(writers);
    KvServer server = KvServer.bind(path, readerPolicy, writerPolicy);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "kv-shutdown"));
    err.println(
        "peercred kv: listening on "
            + server.listener().listener().localAddress()
            + "; readers "
            + (readers.isEmpty() ? "(none)" : String.join(",", readers))
            + ", writers "
            + (writers.isEmpty()
                ? "uid " + PeerCredentials.ofCurrentProcess().uid()
                : String.join(",", writers))
            + " (Ctrl-C stops)");
    server.run();
    return 0;
  }
}
