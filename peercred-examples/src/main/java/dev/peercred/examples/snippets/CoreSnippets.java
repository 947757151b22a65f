package dev.peercred.examples.snippets;

import dev.peercred.Listener;
import dev.peercred.PeerCredentials;
import dev.peercred.Relay;
import dev.peercred.SocketActivation;
import dev.peercred.SocketFile;
import dev.peercred.SystemCallError;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.policy.AuthorizingListener;
import dev.peercred.policy.CommandPolicy;
import dev.peercred.policy.Policy;
import dev.peercred.policy.PolicyRules;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The code examples of peercred-core's API documentation. Each region below (between a start marker
 * naming it and an end marker) is shown by a snippet tag naming this class and the region in the
 * core's javadoc, so the examples compile against the current API and cannot drift from it. Not an
 * API; the package is not exported.
 */
final class CoreSnippets {
  private CoreSnippets() {}

  private static final System.Logger LOG = System.getLogger("dev.peercred.examples.snippets");

  /** The package overview's server and {@link Listener}'s class description. */
  static void server() throws IOException {
    // @start region = server
    long me = PeerCredentials.ofCurrentProcess().uid();
    try (Listener listener = UnixListener.bind(Path.of("/tmp/echo.sock"))) {
      // each connection on a virtual thread of its own, closed when the handler returns
      listener.serve(
          connection -> {
            if (!connection.peerCredentials().hasUid(me)) {
              connection.refuse("Unauthorized access\n");
              return;
            }
            connection.inputStream().transferTo(connection.outputStream());
          });
    }
    // @end
  }

  /** The package overview's client. */
  static void client() throws IOException {
    // @start region = client
    try (UnixConnection connection = UnixConnection.connect(Path.of("/run/app/api.sock"))) {
      PeerCredentials server = connection.peerCredentials(); // read at connect
      if (!server.hasUid(0)) {
        throw new IOException("/run/app/api.sock is not served by root but by " + server);
      }
      connection.outputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
    }
    // @end
  }

  /** {@link UnixListener}'s class description: the accept loop written out. */
  static void acceptLoop() throws IOException {
    // @start region = accept
    try (UnixListener listener = UnixListener.bind(Path.of("/tmp/echo.sock"))) {
      while (true) {
        UnixConnection connection = listener.accept(); // its peer's credentials already read
        Thread.ofVirtual().start(() -> serve(connection)); // serve closes it
      }
    }
    // @end
  }

  private static void serve(UnixConnection connection) {
    try (connection) {
      LOG.log(Level.INFO, "serving uid {0}", connection.peerCredentials().uid());
      connection.inputStream().transferTo(connection.outputStream());
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "client went away: {0}", e.toString());
    }
  }

  /** {@link Relay}'s class description. */
  static void relay(UnixConnection client) throws IOException {
    // @start region = relay
    try (UnixConnection backend = UnixConnection.connect(Path.of("/run/backend.sock"))) {
      Relay.Result result = Relay.between(client, backend); // returns when both directions ended
      LOG.log(Level.INFO, "{0} bytes in, {1} bytes out", result.fromClient(), result.fromServer());
    }
    // @end
  }

  /** {@link SocketFile}'s class description: a server that binds with the JDK's channels. */
  static void socketFile(Path path) throws IOException {
    // @start region = socket-file
    SocketFile.removeIfStale(path); // a dead server's socket goes; a live server's stays
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(path));
      SocketFile file = SocketFile.of(path); // right after binding: this device and inode are ours
      try {
        acceptUntilClosed(server);
      } finally {
        file.deleteIfUnchanged(); // before the socket closes: never a newer server's, nor a file
      }
    }
    // @end
  }

  private static void acceptUntilClosed(ServerSocketChannel server) throws IOException {
    while (server.isOpen()) {
      try (SocketChannel channel = server.accept()) {
        LOG.log(Level.INFO, "accepted {0}", channel);
      }
    }
  }

  /** {@link SystemCallError}'s class description. */
  static UnixConnection connect(Path path) throws IOException {
    // @start region = errno
    try {
      return UnixConnection.connect(path);
    } catch (ConnectException e) {
      String errno = SystemCallError.of(e).map(SystemCallError::errnoName).orElse("");
      if (errno.equals("EACCES")) {
        throw new IOException("not allowed to connect to " + path + ": check its directory", e);
      }
      throw e;
    }
    // @end
  }

  /** {@link SocketActivation}'s class description. */
  static UnixListener activatedOrBound() throws IOException {
    // @start region = activation
    UnixListener listener =
        SocketActivation.isInherited()
            ? SocketActivation.listener("api") // or listener(0)
            : UnixListener.bind(Path.of("/run/app/api.sock"));
    // @end
    return listener;
  }

  /** {@link AuthorizingListener}'s class description and the policy package's overview. */
  static void authorizingServer() throws IOException {
    // @start region = authorizing
    Policy policy =
        PolicyRules.parse(
            """
            allow same-user
            allow group backup
            """);
    try (AuthorizingListener listener =
        AuthorizingListener.wrap(
            UnixListener.bind(Path.of("/run/backupd.sock")),
            policy,
            AuthorizingListener.UNAUTHORIZED)) {
      listener.serve(connection -> backup(connection)); // allowed peers only
    }
    // @end
  }

  private static void backup(UnixConnection connection) throws IOException {
    connection.inputStream().transferTo(connection.outputStream());
  }

  /** {@link Policy}'s class description. */
  static List<Policy> policies() {
    // @start region = policy
    Policy admins = Policy.anyOf(Policy.root(), Policy.group("wheel"));
    Policy viewers =
        PolicyRules.parse(
            """
            deny uid 65534
            allow group staff
            allow same-user
            """);
    // @end
    return List.of(admins, viewers);
  }

  // @start region = commands
  private static final CommandPolicy RIGHTS =
      CommandPolicy.builder()
          .command("get", Policy.anyOf(Policy.group("viewers"), Policy.group("editors")))
          .command("set", Policy.group("editors"))
          .build();

  /** Answers one command read from {@code connection}. */
  static String answer(UnixConnection connection, String command) {
    if (!RIGHTS.authorize(connection, command).allowed()) {
      return "denied"; // and the connection stays open for the next command
    }
    return execute(command);
  } // @end

  private static String execute(String command) {
    return "ok " + command;
  }
}
