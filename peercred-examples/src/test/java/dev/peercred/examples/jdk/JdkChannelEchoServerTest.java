package dev.peercred.examples.jdk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.peercred.policy.Policy;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.PythonClient;
import dev.peercred.testing.Users;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The JDK-channel echo server: this process is echoed, nobody is refused. */
@Timeout(60)
class JdkChannelEchoServerTest {
  @TempDir Path dir;

  @Test
  void echoesItsOwnUserAndRefusesOthers() throws Exception {
    Path socket = dir.resolve("jdk.sock");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
      Thread accepting =
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      JdkChannelEchoServer.serve(server, Policy.uid(1000));
                    } catch (java.io.IOException closed) {
                      // the test closed the server
                    }
                  });
      try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
        client.write(StandardCharsets.UTF_8.encode("one\ntwo\n"));
        client.shutdownOutput();
        assertEquals(
            "> one\n> two\n",
            new String(Channels.newInputStream(client).readAllBytes(), StandardCharsets.UTF_8));
      }
      // The other users (Users.as skips the rest, saying why, unless this is root with setpriv).
      for (long uid : List.of(65534L, 1000L)) {
        ChildProcess.Result run =
            ChildProcess.run(
                PythonClient.as(Users.as(uid, uid), PythonClient.command(socket, "x\n", true)));
        assertEquals(0, run.exitCode(), run.toString());
        String out = run.stdout();
        assertEquals(uid == 1000 ? "> x\n" : "Unauthorized access\n", out, "uid " + uid);
      }
      server.close();
      accepting.join(TimeUnit.SECONDS.toMillis(10));
    }
  }
}
