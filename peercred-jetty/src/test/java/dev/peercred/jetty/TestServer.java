package dev.peercred.jetty;

import dev.peercred.PeerIdentity;
import dev.peercred.policy.Policy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * A Jetty server on a Unix socket whose handler answers {@code uid=U pid=P} for its caller. Also a
 * main for child JVMs: prints {@code listening} once started.
 */
final class TestServer implements AutoCloseable {
  final Server server;
  final UnixDomainServerConnector connector;
  final PeerIdentityListener listener;

  TestServer(Path socket, Policy policy, boolean identify) throws Exception {
    server = new Server();
    connector = new UnixDomainServerConnector(server);
    connector.setUnixDomainPath(socket);
    listener = identify ? PeerIdentityListener.install(connector) : null;
    server.addConnector(connector);
    server.setHandler(new PeerAuthorizationHandler(policy, new Answer()));
    server.start();
    Files.setPosixFilePermissions(socket.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }

  /** Answers {@code uid=U pid=P identity=HASH} for the caller. */
  static final class Answer extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      PeerIdentity caller = PeerAuthorizationHandler.identity(request);
      String body =
          "uid="
              + caller.uid()
              + " pid="
              + caller.pid().orElse(-1)
              + " identity="
              + System.identityHashCode(caller);
      response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
      return true;
    }
  }

  public static void main(String[] args) throws Exception {
    try (TestServer server = new TestServer(Path.of(args[0]), Policy.anyone(), true)) {
      System.out.println("listening");
      server.server.join();
    }
  }
}
