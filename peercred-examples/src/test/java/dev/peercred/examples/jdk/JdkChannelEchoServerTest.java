package dev.peercred.examples.jdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.peercred.PeerCredentials;
import dev.peercred.policy.Policy;
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
      assumeTrue(
          PeerCredentials.ofCurrentProcess().uid() == 0
              && Files.isExecutable(Path.of("/usr/bin/setpriv"))
              && Files.isExecutable(Path.of("/usr/bin/python3")),
          "SKIPPED LOUDLY: the other-user half needs root, setpriv and python3");
      String script =
          "import socket,sys\n"
              + "s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'x\\n')\n"
              + "s.shutdown(socket.SHUT_WR)\n"
              + "d=b''\n"
              + "try:\n"
              + "    while True:\n"
              + "        c=s.recv(99)\n"
              + "        if not c: break\n"
              + "        d+=c\n"
              + "except ConnectionResetError:\n"
              + "    pass\n"
              + "sys.stdout.write(d.decode())\n";
      for (long uid : List.of(65534L, 1000L)) {
        Process p =
            new ProcessBuilder(
                    "/usr/bin/setpriv",
                    "--reuid=" + uid,
                    "--regid=" + uid,
                    "--clear-groups",
                    "/usr/bin/python3",
                    "-c",
                    script,
                    socket.toString())
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        assertEquals(uid == 1000 ? "> x\n" : "Unauthorized access\n", out, "uid " + uid);
      }
      server.close();
      accepting.join(TimeUnit.SECONDS.toMillis(10));
    }
  }
}
