package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import dev.peercred.testing.Users;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PeerCredentials#of(SocketChannel)} and {@link PeerIdentity#of(SocketChannel)} on the JDK's
 * own Unix domain channels. This JVM runs with {@code --add-exports
 * java.base/sun.nio.ch=ALL-UNNAMED} (the build's test argLine); the child JVMs check what happens
 * with and without it.
 */
@Timeout(60)
class JdkChannelTest {
  @TempDir Path dir;
  private Path socket;
  private ServerSocketChannel server;

  @BeforeEach
  void bind() throws IOException {
    socket = dir.resolve("jdk.sock");
    server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(socket));
  }

  @AfterEach
  void close() throws IOException {
    server.close();
  }

  private static PeerCredentials me() {
    return PeerCredentials.ofCurrentProcess();
  }

  @Test
  void acceptedAndClientChannelsOfThisProcessReadOurOwnCredentials() throws IOException {
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        SocketChannel accepted = server.accept()) {
      assertEquals(me(), PeerCredentials.of(accepted));
      assertEquals(me(), PeerCredentials.of(client)); // the server's: this process at listen()
      // The JDK's own option agrees (names only): the oracle for uid and gid.
      var principal = accepted.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
      try (PeerIdentity identity = PeerIdentity.of(accepted)) {
        assertEquals(me(), identity.credentials());
        assertEquals(identity.userName().orElseThrow(), principal.user().getName());
        assertEquals(identity.groupName().orElseThrow(), principal.group().getName());
        PeerProcess process = identity.process().orElseThrow();
        assertEquals(ProcessHandle.current().pid(), process.pid());
        assertEquals(
            Path.of(ProcessHandle.current().info().command().orElseThrow()).toRealPath(),
            process.executable());
      }
      // The channel is untouched: still usable in its blocking mode.
      client.write(ByteBuffer.wrap(new byte[] {42}));
      ByteBuffer one = ByteBuffer.allocate(1);
      assertEquals(1, accepted.read(one));
      assertEquals(42, one.get(0));
    }
  }

  @Test
  void nonBlockingChannelsReadTheSame() throws IOException {
    try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        SocketChannel accepted = server.accept()) {
      accepted.configureBlocking(false);
      assertEquals(me(), PeerCredentials.of(accepted));
      assertFalse(accepted.isBlocking());
    }
  }

  @Test
  void anotherUsersClientIsTheOtherUserWithItsGroupsAndProcess() throws Exception {
    Users.openToEveryone(dir);
    Users.openToEveryone(socket);
    ChildProcess client = PeerClients.startPythonAs(65534, 65534, List.of(4L, 27L), socket);
    try (SocketChannel accepted = server.accept()) {
      PeerCredentials peer = PeerCredentials.of(accepted);
      assertEquals(65534, peer.uid());
      assertEquals(65534, peer.gid());
      assertEquals(client.pid(), peer.pid().orElseThrow());
      try (PeerIdentity identity = PeerIdentity.of(accepted)) {
        assertEquals(List.of(4L, 27L), identity.groups());
        assertEquals(client.pid(), identity.process().orElseThrow().pid());
        assertTrue(identity.process().orElseThrow().executable().toString().contains("python"));
      }
    } finally {
      client.close();
    }
  }

  @Test
  void closedChannelIsClosedChannelException() throws IOException {
    SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
    SocketChannel accepted = server.accept();
    accepted.close();
    client.close();
    assertThrows(ClosedChannelException.class, () -> PeerCredentials.of(accepted));
    assertThrows(ClosedChannelException.class, () -> PeerIdentity.of(accepted));
    assertThrows(ClosedChannelException.class, () -> PeerCredentials.of(client));
  }

  @Test
  void unconnectedChannelIsRefusedByName() throws IOException {
    try (SocketChannel unconnected = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      var e = assertThrows(IllegalArgumentException.class, () -> PeerCredentials.of(unconnected));
      assertTrue(e.getMessage().contains("not connected"), e.getMessage());
      assertThrows(IllegalArgumentException.class, () -> PeerIdentity.of(unconnected));
    }
  }

  @Test
  void tcpChannelIsRefusedByName() throws IOException {
    try (ServerSocketChannel tcp = ServerSocketChannel.open()) {
      tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      try (SocketChannel client = SocketChannel.open(tcp.getLocalAddress());
          SocketChannel accepted = tcp.accept()) {
        for (SocketChannel channel : List.of(client, accepted)) {
          var e = assertThrows(IllegalArgumentException.class, () -> PeerCredentials.of(channel));
          assertTrue(e.getMessage().contains("family UNIX"), e.getMessage());
          assertThrows(IllegalArgumentException.class, () -> PeerIdentity.of(channel));
        }
      }
    }
  }

  @Test
  void nullIsRefused() {
    assertThrows(NullPointerException.class, () -> PeerCredentials.of(null));
    assertThrows(NullPointerException.class, () -> PeerIdentity.of(null));
  }

  /**
   * Closes channels while another thread reads them, and at once reuses each freed descriptor
   * number for a regular file: a read that raced the close must end in a ClosedChannelException,
   * never in an answer or an error about whatever file now has the number.
   */
  @Test
  void closingDuringTheReadNeverAnswersForAReusedDescriptor() throws Exception {
    Path file = dir.resolve("reuse");
    Files.writeString(file, "not a socket");
    int raced = 0;
    for (int round = 0; round < 300; round++) {
      SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(socket));
      SocketChannel accepted = server.accept();
      CountDownLatch started = new CountDownLatch(1);
      AtomicReference<Throwable> outcome = new AtomicReference<>();
      Thread reader =
          Thread.ofPlatform()
              .start(
                  () -> {
                    started.countDown();
                    try {
                      while (true) {
                        PeerCredentials peer = PeerCredentials.of(accepted);
                        if (!peer.equals(me())) {
                          outcome.set(new AssertionError("wrong credentials " + peer));
                          return;
                        }
                        PeerIdentity.of(accepted).close();
                      }
                    } catch (Throwable t) {
                      outcome.set(t);
                    }
                  });
      started.await();
      accepted.close();
      List<FileChannel> reusers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        reusers.add(FileChannel.open(file, StandardOpenOption.READ));
      }
      reader.join(TimeUnit.SECONDS.toMillis(30));
      for (FileChannel reuser : reusers) {
        reuser.close();
      }
      client.close();
      Throwable t = outcome.get();
      if (!(t instanceof ClosedChannelException)) {
        fail("round " + round + ": the read ended with " + t, t);
      }
      if (t instanceof java.nio.channels.AsynchronousCloseException) {
        raced++;
      }
    }
    System.out.println("reads that raced a close: " + raced + " of 300");
  }

  // ---- child JVMs: the option is needed, names itself, and is the minimal one ----

  private static String location(String relative) {
    return Path.of("target", relative).toAbsolutePath().toString();
  }

  private static String runProbe(List<String> command) throws Exception {
    ChildProcess.Result run = ChildProcess.builder(command).mergeStderr().start().finish();
    List<String> lines = run.stdoutLines();
    assertEquals(0, run.exitCode(), run.toString());
    Optional<String> result =
        lines.stream().filter(l -> l.startsWith("ok ") || l.startsWith("error ")).findFirst();
    assertTrue(result.isPresent(), "probe said: " + run);
    assertFalse(String.join("\n", lines).contains("WARNING"), run.toString());
    return result.get();
  }

  private static List<String> classPathProbe(String... options) {
    List<String> command = new ArrayList<>();
    command.add(JavaCommand.java().toString());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.addAll(List.of(options));
    command.add("-cp");
    command.add(location("classes") + File.pathSeparator + location("test-classes"));
    command.add(JdkChannelProbe.class.getName());
    return command;
  }

  private static List<String> modulePathProbe(String... options) {
    List<String> command = new ArrayList<>();
    command.add(JavaCommand.java().toString());
    command.add("--enable-native-access=dev.peercred");
    command.addAll(List.of(options));
    command.add("--module-path");
    command.add(location("classes"));
    command.add("--patch-module");
    command.add("dev.peercred=" + location("test-classes"));
    command.add("--module");
    command.add("dev.peercred/" + JdkChannelProbe.class.getName());
    return command;
  }

  @Test
  void onTheClassPathWithoutTheOptionTheErrorNamesIt() throws Exception {
    String result = runProbe(classPathProbe());
    assertTrue(result.startsWith("error UnsupportedOperationException"), result);
    assertTrue(result.contains("--add-exports java.base/sun.nio.ch=ALL-UNNAMED"), result);
  }

  @Test
  void onTheClassPathAddExportsIsEnough() throws Exception {
    String result = runProbe(classPathProbe("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"));
    assertTrue(result.startsWith("ok pid="), result);
  }

  @Test
  void onTheModulePathWithoutTheOptionTheErrorNamesTheModule() throws Exception {
    String result = runProbe(modulePathProbe());
    assertTrue(result.startsWith("error UnsupportedOperationException"), result);
    assertTrue(result.contains("--add-exports java.base/sun.nio.ch=dev.peercred"), result);
    // Exporting to the class path does not reach a named module.
    result = runProbe(modulePathProbe("--add-exports=java.base/sun.nio.ch=ALL-UNNAMED"));
    assertTrue(result.contains("--add-exports java.base/sun.nio.ch=dev.peercred"), result);
  }

  @Test
  void onTheModulePathAddExportsToDevPeercredIsEnough() throws Exception {
    String result = runProbe(modulePathProbe("--add-exports=java.base/sun.nio.ch=dev.peercred"));
    assertTrue(result.startsWith("ok pid="), result);
  }

  @Test
  void anExecutableJarCanCarryTheExportInItsManifest() throws Exception {
    Path jar = dir.resolve("probe.jar");
    Manifest manifest = new Manifest();
    Attributes main = manifest.getMainAttributes();
    main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    main.put(Attributes.Name.MAIN_CLASS, JdkChannelProbe.class.getName());
    main.put(
        Attributes.Name.CLASS_PATH,
        dir.relativize(Path.of(location("classes")))
            + "/ "
            + dir.relativize(Path.of(location("test-classes")))
            + "/");
    main.putValue("Add-Exports", "java.base/sun.nio.ch");
    main.putValue("Enable-Native-Access", "ALL-UNNAMED");
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream unused = new JarOutputStream(out, manifest)) {
      // the manifest is the whole jar
    }
    String result = runProbe(List.of(JavaCommand.java().toString(), "-jar", jar.toString()));
    assertTrue(result.startsWith("ok pid="), result);
  }
}
