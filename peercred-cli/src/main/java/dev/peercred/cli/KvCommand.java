package dev.peercred.cli;

import dev.peercred.PeerCredentials;
import dev.peercred.examples.KvServer;
import dev.peercred.policy.Policy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code peercred kv [SOCKET] --readers ... --writers ...}: the tiered key-value daemon. */
@Command(
    name = "kv",
    mixinStandardHelpOptions = true,
    description = {
      "A key-value daemon with tiered rights: readers may 'get KEY', writers may also",
      "'set KEY VALUE'; anyone else reads 'Unauthorized access' and is disconnected.",
      "Every connection and command is logged with the peer's uid, gid, pid and",
      "executable (logger dev.peercred.audit) and recorded as JFR events.",
      "A principal is a uid (1000), user:NAME, group:NAME or a plain group NAME;",
      "names are resolved at each check."
    })
final class KvCommand implements Callable<Integer> {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "SOCKET",
      description = "socket path (default: ${DEFAULT-VALUE})",
      defaultValue = "/tmp/kv.sock")
  String socket;

  @Option(
      names = "--readers",
      split = ",",
      arity = "1..*",
      paramLabel = "GROUP_OR_UID",
      description = "who may get (default: nobody besides the writers)")
  List<String> readers = new ArrayList<>();

  @Option(
      names = "--writers",
      split = ",",
      arity = "1..*",
      paramLabel = "GROUP_OR_UID",
      description = "who may get and set (default: the user running the server)")
  List<String> writers = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    Path path = Main.socketPath("kv", socket);
    Policy readerPolicy = KvServer.principals(readers);
    Policy writerPolicy =
        writers.isEmpty()
            ? Policy.uid(PeerCredentials.ofCurrentProcess().uid())
            : KvServer.principals(writers);
    KvServer server = KvServer.bind(path, readerPolicy, writerPolicy);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "kv-shutdown"));
    System.err.println(
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
