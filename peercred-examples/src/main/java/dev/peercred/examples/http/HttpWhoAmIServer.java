package dev.peercred.examples.http;

import dev.peercred.PeerIdentity;
import dev.peercred.PeerProcess;
import dev.peercred.jetty.PeerAuthorizationHandler;
import dev.peercred.jetty.PeerIdentityListener;
import dev.peercred.policy.Policy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * The HTTP demo of {@code peercred http-demo}: a Jetty 12 server on a Unix socket whose {@code GET
 * /whoami} answers, in JSON, who the caller is as the kernel told the server (pid, uid, gid,
 * groups, executable). Only the callers a policy allows get an answer (by default the server's own
 * user and root); everyone else gets {@code 403 Forbidden}. The socket is open to every user (mode
 * 0666) so that others can try.
 *
 * <p>Needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (or {@code =dev.peercred} on the
 * module path) besides native access: try {@code curl --unix-socket /tmp/peercred-http.sock
 * http://localhost/whoami}.
 */
public final class HttpWhoAmIServer implements AutoCloseable {
  /** Who the demo answers by default: the server's own user, and root. */
  public static final Policy OWNER_OR_ROOT = Policy.anyOf(Policy.sameUser(), Policy.root());

  private final Server server;
  private final Path socket;

  private HttpWhoAmIServer(Server server, Path socket) {
    this.server = server;
    this.socket = socket;
  }

  /**
   * Starts the demo on {@code socket}, answering the callers {@code policy} allows.
   *
   * @throws IOException if the socket cannot be bound (a file is in the way, a server listens)
   */
  public static HttpWhoAmIServer start(Path socket, Policy policy) throws IOException {
    // @start region = connector
    Server server = new Server();
    UnixDomainServerConnector connector = new UnixDomainServerConnector(server);
    connector.setUnixDomainPath(socket);
    PeerIdentityListener.install(connector); // every connection's caller, read at accept
    server.addConnector(connector);
    // @end
    // @start region = handler
    server.setHandler(new PeerAuthorizationHandler(policy, new WhoAmIHandler()));

    // ... and in the wrapped handler:
    // PeerIdentity caller = PeerAuthorizationHandler.identity(request);
    // @end
    try {
      server.start();
    } catch (IOException e) {
      stopQuietly(server);
      throw e;
    } catch (Exception e) {
      stopQuietly(server);
      throw new IOException("cannot start the HTTP server on " + socket + ": " + e, e);
    }
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
    return new HttpWhoAmIServer(server, socket);
  }

  private static void stopQuietly(Server server) {
    try {
      server.stop();
    } catch (Exception ignored) {
      // already failing
    }
  }

  /** The Jetty server. */
  public Server server() {
    return server;
  }

  /** The socket it listens on. */
  public Path socket() {
    return socket;
  }

  /** Waits until the server stops. */
  public void join() throws InterruptedException {
    server.join();
  }

  /** Stops the server; Jetty removes the socket file. */
  @Override
  public void close() {
    stopQuietly(server);
  }

  /** The caller as JSON: what {@code GET /whoami} answers. */
  static String describe(PeerIdentity caller) {
    StringBuilder json = new StringBuilder(160).append('{');
    json.append("\"pid\":").append(caller.pid().isPresent() ? caller.pid().getAsLong() : "null");
    json.append(",\"uid\":").append(caller.uid());
    json.append(",\"gid\":").append(caller.gid());
    json.append(",\"groups\":");
    try {
      List<Long> groups = caller.groups();
      json.append(groups.toString().replace(" ", ""));
    } catch (IOException e) {
      json.append("null");
    }
    json.append(",\"executable\":");
    try {
      Optional<PeerProcess> process = caller.process();
      if (process.isPresent()) {
        json.append(jsonString(process.get().executable().toString()));
      } else {
        json.append("null");
      }
    } catch (IOException e) {
      json.append("null");
    }
    json.append(",\"user\":");
    Optional<String> user = caller.userName();
    if (user.isPresent()) {
      json.append(jsonString(user.get()));
    } else {
      json.append("null");
    }
    return json.append("}\n").toString();
  }

  /** {@code text} as a JSON string, quotes included. */
  static String jsonString(String text) {
    StringBuilder json = new StringBuilder(text.length() + 2).append('"');
    text.codePoints()
        .forEach(
            c -> {
              if (c == '"' || c == '\\') {
                json.append('\\').appendCodePoint(c);
              } else if (c < 0x20) {
                json.append(String.format("\\u%04x", c));
              } else {
                json.appendCodePoint(c);
              }
            });
    return json.append('"').toString();
  }

  /** {@code GET /whoami}; 404 for any other path, 405 for any other method. */
  private static final class WhoAmIHandler extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      if (!"/whoami".equals(Request.getPathInContext(request))) {
        return false; // Jetty answers 404
      }
      if (!"GET".equals(request.getMethod())) {
        Response.writeError(request, response, callback, HttpStatus.METHOD_NOT_ALLOWED_405);
        return true;
      }
      PeerIdentity caller = PeerAuthorizationHandler.identity(request);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
      response.write(
          true, ByteBuffer.wrap(describe(caller).getBytes(StandardCharsets.UTF_8)), callback);
      return true;
    }
  }

  /** Runs the demo: {@code HttpWhoAmIServer [SOCKET]}, default {@code /tmp/peercred-http.sock}. */
  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args.length > 0 ? args[0] : "/tmp/peercred-http.sock");
    try (HttpWhoAmIServer demo = start(socket, OWNER_OR_ROOT)) {
      System.out.println("listening on " + socket);
      demo.join();
    }
  }
}
