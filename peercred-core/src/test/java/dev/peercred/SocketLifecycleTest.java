package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Await;
import dev.peercred.testing.Background;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Tools;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SocketLifecycleTest {
  @TempDir Path dir;

  private static int mode(Path path) throws IOException {
    return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
  }

  private static Object inode(Path path) throws IOException {
    Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
    return a.get("dev") + ":" + a.get("ino");
  }

  private static boolean isSocket(Path path) throws IOException {
    return (mode(path) & 0xF000) == 0xC000;
  }

  /** Leaves a socket file that no server answers: bound, then closed without removing it. */
  private static void leaveStaleSocket(Path path) throws IOException {
    UnixListener.bind(path, ListenerOptions.defaults().withRemoveOnClose(false)).close();
    assertTrue(isSocket(path));
  }

  private static void assertServes(UnixListener listener) throws Exception {
    CompletableFuture<PeerCredentials> server =
        CompletableFuture.supplyAsync(
            () -> {
              try (UnixConnection c = listener.accept()) {
                return c.peerCredentials();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    try (UnixConnection client = UnixConnection.connect(listener.localAddress(), Duration.ZERO)) {
      assertEquals(PeerCredentials.ofCurrentProcess(), client.peerCredentials());
    }
    assertEquals(
        PeerCredentials.ofCurrentProcess(),
        server.get(Await.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
  }

  @Test
  void staleSocketIsReplaced() throws Exception {
    Path path = dir.resolve("stale.sock");
    leaveStaleSocket(path);
    // Inode numbers are reused at once, so mark the stale file by its mode instead.
    Files.setPosixFilePermissions(
        path, java.nio.file.attribute.PosixFilePermissions.fromString("r--r-----"));
    try (UnixListener listener = UnixListener.bind(path)) {
      assertTrue(isSocket(path));
      assertFalse((mode(path) & 0777) == 0440, "a new socket file replaced the stale one");
      assertServes(listener);
    }
  }

  @Test
  void staleSocketIsReplacedWhenBindingWithPermissions() throws Exception {
    Path path = dir.resolve("stale.sock");
    leaveStaleSocket(path);
    try (UnixListener listener =
        UnixListener.bind(path, ListenerOptions.defaults().withMode(0600))) {
      assertEquals(0600, mode(path) & 0777);
      assertServes(listener);
    }
  }

  @Test
  void staleSocketIsKeptWhenReplacementIsOff() throws Exception {
    Path path = dir.resolve("stale.sock");
    leaveStaleSocket(path);
    Object stale = inode(path);
    assertThrows(
        AddressInUseException.class,
        () -> UnixListener.bind(path, ListenerOptions.defaults().withReplaceStaleSocket(false)));
    assertEquals(stale, inode(path));
  }

  @Test
  void liveSocketIsKeptWithAddressInUse() throws Exception {
    Path path = dir.resolve("live.sock");
    try (UnixListener live = UnixListener.bind(path)) {
      Object inode = inode(path);
      var e = assertThrows(AddressInUseException.class, () -> UnixListener.bind(path));
      assertTrue(e.getMessage().contains("server is listening"), e.getMessage());
      assertThrows(
          AddressInUseException.class,
          () -> UnixListener.bind(path, ListenerOptions.defaults().withMode(0600)));
      assertEquals(inode, inode(path));
      assertServes(live);
    }
  }

  @Test
  void regularFileInTheWayIsUntouched() throws Exception {
    Path path = dir.resolve("file.sock");
    Files.writeString(path, "precious");
    var e = assertThrows(BindException.class, () -> UnixListener.bind(path));
    assertFalse(e instanceof AddressInUseException);
    assertTrue(e.getMessage().contains("regular file"), e.getMessage());
    assertThrows(
        BindException.class,
        () -> UnixListener.bind(path, ListenerOptions.defaults().withMode(0600)));
    assertEquals("precious", Files.readString(path));
  }

  @Test
  void directoryInTheWayIsUntouched() throws Exception {
    Path path = dir.resolve("dir.sock");
    Files.createDirectory(path);
    Files.writeString(path.resolve("inside"), "precious");
    var e = assertThrows(BindException.class, () -> UnixListener.bind(path));
    assertTrue(e.getMessage().contains("directory"), e.getMessage());
    assertThrows(
        BindException.class,
        () -> UnixListener.bind(path, ListenerOptions.defaults().withMode(0600)));
    assertEquals("precious", Files.readString(path.resolve("inside")));
  }

  @Test
  void symlinkInTheWayIsUntouchedAndNotFollowed() throws Exception {
    // The link points at a stale socket: following it would find "stale" and delete the target.
    Path target = dir.resolve("target.sock");
    leaveStaleSocket(target);
    Object targetInode = inode(target);
    Path path = dir.resolve("link.sock");
    Files.createSymbolicLink(path, target);
    var e = assertThrows(BindException.class, () -> UnixListener.bind(path));
    assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
    assertThrows(
        BindException.class,
        () -> UnixListener.bind(path, ListenerOptions.defaults().withMode(0600)));
    assertTrue(Files.isSymbolicLink(path));
    assertEquals(target, Files.readSymbolicLink(path));
    assertEquals(targetInode, inode(target));
  }

  @Test
  void closeRemovesItsOwnSocketFile() throws Exception {
    Path path = dir.resolve("own.sock");
    UnixListener.bind(path).close();
    assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
    UnixListener.bind(path, ListenerOptions.defaults().withMode(0660)).close();
    assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void closeSkipsUnlinkWhenAnotherServerReplacedTheFile() throws Exception {
    Path path = dir.resolve("replaced.sock");
    UnixListener first = UnixListener.bind(path);
    Files.delete(path);
    try (UnixListener second = UnixListener.bind(path)) {
      Object secondInode = inode(path);
      first.close();
      assertEquals(secondInode, inode(path), "the newer server's socket file is still there");
      assertServes(second);
    }
  }

  @Test
  void closeSkipsUnlinkWhenARegularFileReplacedTheSocket() throws Exception {
    Path path = dir.resolve("replaced.sock");
    UnixListener listener = UnixListener.bind(path, ListenerOptions.defaults().withMode(0600));
    Path other = dir.resolve("other");
    Files.writeString(other, "precious");
    Files.move(other, path, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    listener.close();
    assertEquals("precious", Files.readString(path));
  }

  @Test
  void modeOwnerAndGroupAreApplied() throws Exception {
    Path path = dir.resolve("perm.sock");
    ListenerOptions options =
        ListenerOptions.defaults().withMode(0660).withOwner(65534).withGroup(65534);
    try (UnixListener listener = UnixListener.bind(path, options)) {
      assertTrue(isSocket(path));
      assertEquals(0660, mode(path) & 07777);
      assertEquals(
          65534, (Integer) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS));
      assertEquals(
          65534, (Integer) Files.getAttribute(path, "unix:gid", LinkOption.NOFOLLOW_LINKS));
      assertServes(listener); // the socket still listens after being linked into place
      try (var entries = Files.list(dir)) {
        assertEquals(1, entries.count(), "the private directory is gone");
      }
    }
  }

  /** Connects to {@code path} as uid/gid 65534 in a child process; returns its exit code. */
  private static ChildProcess.Result connectAsNobody(Path path) throws Exception {
    List<String> command = new ArrayList<>(Users.as(Users.NOBODY, Users.NOBODY));
    command.addAll(
        List.of(
            Tools.python3().toString(),
            "-c",
            "import socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX)\n"
                + "try:\n s.connect(sys.argv[1])\nexcept PermissionError:\n sys.exit(13)\n"
                + "s.close()",
            path.toString()));
    return ChildProcess.run(command);
  }

  @Test
  void modeDecidesWhichUsersMayConnect() throws Exception {
    Files.setPosixFilePermissions(
        dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Path closed = dir.resolve("closed.sock");
    try (UnixListener listener =
        UnixListener.bind(closed, ListenerOptions.defaults().withMode(0600))) {
      ChildProcess.Result refused = connectAsNobody(closed);
      assertEquals(13, refused.exitCode(), "EACCES for another user on a 0600 socket\n" + refused);
    }
    Path open = dir.resolve("open.sock");
    try (UnixListener listener =
        UnixListener.bind(open, ListenerOptions.defaults().withMode(0666))) {
      Background<ChildProcess.Result> client = Background.virtual(() -> connectAsNobody(open));
      try (UnixConnection connection = listener.accept()) {
        assertEquals(65534, connection.peerCredentials().uid());
      }
      ChildProcess.Result connected = client.get();
      assertEquals(0, connected.exitCode(), connected.toString());
    }
  }

  @Test
  void modeZeroIsApplied() throws Exception {
    Path path = dir.resolve("zero.sock");
    try (UnixListener listener = UnixListener.bind(path, ListenerOptions.defaults().withMode(0))) {
      assertEquals(0, mode(path) & 07777);
      assertTrue(listener.isOpen());
    }
  }

  /**
   * An observer polls the path with lstat(2) while the socket is bound again and again with mode
   * 0600; the process umask (022 here) would give 0755 to a socket bound in place. The observer
   * must see the socket often, and never with any other mode. The binding goes on, past its 300
   * rounds if need be, until the observer has seen the socket a few times: on a busy machine it may
   * get no CPU for a while.
   */
  @Test
  void socketIsNeverObservableWithWiderPermissions() throws Exception {
    Path path = dir.resolve("race.sock");
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger sightings = new AtomicInteger();
    AtomicReference<String> wider = new AtomicReference<>();
    Thread observer =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (!done.get()) {
                    try {
                      int mode = mode(path);
                      if ((mode & 0xF000) == 0xC000) {
                        sightings.incrementAndGet();
                        if ((mode & 07777) != 0600) {
                          wider.compareAndSet(null, Integer.toOctalString(mode & 07777));
                        }
                      }
                    } catch (IOException e) {
                      // not there at this instant
                    }
                  }
                });
    try {
      ListenerOptions options = ListenerOptions.defaults().withMode(0600);
      long deadline = System.nanoTime() + Await.TIMEOUT.toNanos();
      for (int i = 0; i < 300 || sightings.get() < 10 && System.nanoTime() - deadline < 0; i++) {
        UnixListener.bind(path, options).close();
      }
    } finally {
      done.set(true);
      observer.join();
    }
    System.out.println("the observer saw the socket " + sightings.get() + " times, always 0600");
    assertEquals(null, wider.get(), "observed the socket with mode " + wider.get());
    assertTrue(
        sightings.get() > 0,
        "the observer never saw the socket in " + Await.TIMEOUT + "; the test proved nothing");
    try (var entries = Files.list(dir)) {
      assertEquals(0, entries.count(), "no private directory is left behind");
    }
  }

  @Test
  void abstractSocketConnectsAndAcceptsWithCredentials() throws Exception {
    UnixSocketAddress address =
        UnixSocketAddress.parse("@peercred-test-" + ThreadLocalRandom.current().nextLong(1L << 40));
    assertTrue(address.isAbstract());
    try (UnixListener listener = UnixListener.bind(address, ListenerOptions.defaults())) {
      assertEquals(address, listener.localAddress());
      assertServes(listener);
      assertThrows(
          AddressInUseException.class,
          () -> UnixListener.bind(address, ListenerOptions.defaults()));
    }
    // The name is free again once the listener is closed.
    UnixListener.bind(address, ListenerOptions.defaults()).close();
  }

  @Test
  void abstractSocketRefusesFilePermissions() {
    UnixSocketAddress address = UnixSocketAddress.ofAbstract("peercred-test-perm");
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> UnixListener.bind(address, ListenerOptions.defaults().withMode(0600)));
    assertTrue(e.getMessage().contains("no file"), e.getMessage());
  }

  @Test
  void socketPairCredentialsEqualOurOwnProcess() throws Exception {
    try (ConnectionPair pair = UnixConnection.pair()) {
      PeerCredentials self = PeerCredentials.ofCurrentProcess();
      assertEquals(self, pair.first().peerCredentials());
      assertEquals(self, pair.second().peerCredentials());
      assertEquals(
          OptionalLong.of(ProcessHandle.current().pid()), pair.first().peerCredentials().pid());
      assertTrue(pair.first().localAddress().isUnnamed());
      byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
      pair.first().writeFully(hello, 0, hello.length);
      pair.first().shutdownOutput();
      assertArrayEquals(hello, pair.second().inputStream().readAllBytes());
    }
  }

  /**
   * What docs/lifecycle.md recommends instead of handing a socket-pair end to a child: the child
   * connects to a private socket, and the parent checks the connection's peer pid is the child's.
   */
  @Test
  void childConnectsToAPrivateSocketAndIsRecognisedByPid() throws Exception {
    Path python = Tools.python3();
    Path path = dir.resolve("child.sock");
    try (UnixListener listener =
            UnixListener.bind(path, ListenerOptions.defaults().withMode(0600));
        ChildProcess child =
            ChildProcess.start(
                python.toString(),
                "-c",
                "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
                    + " s.sendall(b'hi from child'); s.close()",
                path.toString())) {
      try (UnixConnection connection = listener.accept()) {
        assertEquals(OptionalLong.of(child.pid()), connection.peerCredentials().pid());
        assertEquals(
            "hi from child",
            new String(connection.inputStream().readAllBytes(), StandardCharsets.UTF_8));
      }
      child.assertExit(0);
    }
  }

  @Test
  void closeGracefullyWaitsForConnectionsToFinish() throws Exception {
    Path path = dir.resolve("graceful.sock");
    UnixListener listener = UnixListener.bind(path);
    UnixConnection client = UnixConnection.connect(path);
    UnixConnection served = listener.accept();
    assertEquals(1, listener.openConnections());
    // The connection ends only once closeGracefully has begun (it first stops listening): it
    // cannot return true without having waited for it.
    Background<Void> finisher =
        Background.virtual(
            () -> {
              Await.until("closeGracefully to stop listening", () -> !listener.isOpen());
              served.close();
            });
    assertTrue(listener.closeGracefully(Duration.ofSeconds(60)));
    finisher.get();
    assertFalse(listener.isOpen());
    assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
    assertThrows(ConnectException.class, () -> UnixConnection.connect(path));
    assertEquals(0, listener.openConnections());
    client.close();
  }

  @Test
  void closeGracefullyClosesConnectionsStillOpenAfterTheTimeout() throws Exception {
    Path path = dir.resolve("forced.sock");
    UnixListener listener = UnixListener.bind(path);
    UnixConnection client = UnixConnection.connect(path);
    UnixConnection served = listener.accept();
    Background<Integer> reader = Background.virtual(() -> served.inputStream().read());
    reader.awaitBlockedIn("NativeSocket.await"); // reading when the grace period runs out
    assertFalse(listener.closeGracefully(Duration.ofMillis(100)));
    assertFalse(served.isOpen());
    Throwable failure = reader.failure();
    assertTrue(failure instanceof AsynchronousCloseException, String.valueOf(failure));
    assertThrows(ClosedChannelException.class, listener::accept);
    client.close();
  }

  @Test
  void optionsRejectBadValues() {
    ListenerOptions options = ListenerOptions.defaults();
    assertThrows(IllegalArgumentException.class, () -> options.withMode(-1));
    assertThrows(IllegalArgumentException.class, () -> options.withMode(01000));
    assertThrows(IllegalArgumentException.class, () -> options.withOwner(-1));
    assertThrows(IllegalArgumentException.class, () -> options.withOwner(0xFFFF_FFFFL));
    assertThrows(IllegalArgumentException.class, () -> options.withGroup(1L << 32));
    assertThrows(IllegalArgumentException.class, () -> options.withBacklog(0));
    assertEquals(0777, options.withMode(0777).mode().getAsInt());
    assertEquals(0xFFFF_FFFEL, options.withGroup(0xFFFF_FFFEL).group().getAsLong());
  }

  @Test
  void bindingTheUnnamedAddressIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> UnixListener.bind(UnixSocketAddress.unnamed(), ListenerOptions.defaults()));
  }
}
