package dev.peercred.cli;

import dev.peercred.examples.http.HttpWhoAmIServer;
import dev.peercred.policy.Policy;
import dev.peercred.policy.PolicyRules;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * {@code peercred http-demo [SOCKET]}: a Jetty HTTP server on a Unix socket whose {@code GET
 * /whoami} tells each caller who the kernel says it is. Needs peercred-jetty and Jetty on the class
 * path, and the JVM option {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (the command's
 * jar carries it as its {@code Add-Exports} manifest attribute).
 */
final class HttpDemoCommand implements Command {
  /** The first line of the description, which {@code peercred --help} shows without Jetty. */
  static final String SUMMARY =
      "Serve HTTP on a Unix socket (Jetty) where every request knows its caller.";

  /** Jetty's own start-up lines are noise here; held so that the level sticks. */
  private static final java.util.logging.Logger JETTY =
      java.util.logging.Logger.getLogger("org.eclipse.jetty");

  private static final Syntax.Arg<String> SOCKET =
      Syntax.socketParameter("/tmp/peercred-http.sock");

  private static final Syntax.Arg<Path> POLICY =
      Syntax.option(
          "--policy",
          "FILE",
          Syntax::path,
          "who gets an answer, as policy rules (docs/policies.md), instead of the server's own"
              + " user and root");

  private static final Syntax SYNTAX =
      Syntax.command(
              "http-demo",
              SUMMARY,
              "GET /whoami answers the caller's pid, uid, gid, groups and executable in JSON.",
              "Only the user who started the server and root get an answer, unless --policy"
                  + " replaces the rule; everyone else gets 403 Forbidden. The socket is open to"
                  + " all users.",
              "Try: curl --unix-socket SOCKET http://localhost/whoami")
          .args(SOCKET, POLICY);

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err) throws Exception {
    String socket = args.value(SOCKET);
    Path policyFile = args.value(POLICY);
    Path path = Main.socketPath("http-demo", socket);
    JETTY.setLevel(java.util.logging.Level.WARNING);
    Policy policy =
        policyFile == null ? HttpWhoAmIServer.OWNER_OR_ROOT : PolicyRules.read(policyFile);
    String who = policyFile == null ? "its own user and root" : "callers allowed by " + policyFile;
    HttpWhoAmIServer server = HttpWhoAmIServer.start(path, policy);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "http-demo-shutdown"));
    err.println(
        "peercred http-demo: listening on "
            + path
            + "; answering "
            + who
            + ", 403 to others (Ctrl-C stops)");
    server.join();
    return 0;
  }
}
