package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every public entry point checks its arguments and throws an exception whose message names what is
 * wrong.
 */
@Timeout(30)
class ArgumentChecksTest {
  @TempDir Path dir;

  private static void assertRejected(
      Class<? extends RuntimeException> type, String expectedInMessage, Executable call) {
    RuntimeException e = assertThrows(type, call);
    assertTrue(
        e.getMessage() != null && e.getMessage().contains(expectedInMessage),
        "message should name '" + expectedInMessage + "': " + e.getMessage());
  }

  @Test
  void addressesRejectNullEmptyNulOverlongAndForeignPaths() throws Exception {
    assertRejected(NullPointerException.class, "socket path", () -> UnixSocketAddress.of(null));
    assertRejected(
        IllegalArgumentException.class, "empty", () -> UnixSocketAddress.of(Path.of("")));
    assertRejected(
        NullPointerException.class, "socket address", () -> UnixSocketAddress.parse(null));
    assertRejected(IllegalArgumentException.class, "empty", () -> UnixSocketAddress.parse(""));
    assertRejected(
        IllegalArgumentException.class, "NUL", () -> UnixSocketAddress.parse("/tmp/a\0b"));
    assertRejected(
        IllegalArgumentException.class,
        "107",
        () -> UnixSocketAddress.parse("/" + "x".repeat(107)));
    assertRejected(
        NullPointerException.class, "abstract", () -> UnixSocketAddress.ofAbstract(null));
    assertRejected(IllegalArgumentException.class, "empty", () -> UnixSocketAddress.parse("@"));
    assertRejected(IllegalArgumentException.class, "NUL", () -> UnixSocketAddress.parse("@a\0"));
    assertRejected(
        IllegalArgumentException.class, "107", () -> UnixSocketAddress.parse("@" + "é".repeat(54)));
    assertRejected(
        IllegalArgumentException.class, "surrogate", () -> UnixSocketAddress.ofAbstract("a\uD800"));
    Path zip = dir.resolve("f.zip");
    try (FileSystem zipfs =
        FileSystems.newFileSystem(URI.create("jar:" + zip.toUri()), Map.of("create", "true"))) {
      assertRejected(
          IllegalArgumentException.class,
          "default file system",
          () -> UnixSocketAddress.of(zipfs.getPath("/s")));
    }
    assertRejected(
        IllegalArgumentException.class,
        "unnamed",
        () -> UnixConnection.connect(UnixSocketAddress.unnamed(), Duration.ZERO));
    assertRejected(
        IllegalArgumentException.class,
        "unnamed",
        () -> UnixListener.bind(UnixSocketAddress.unnamed(), ListenerOptions.defaults()));
  }

  @Test
  void relativePathsAreResolvedAgainstTheWorkingDirectory() {
    UnixSocketAddress address = UnixSocketAddress.of(Path.of("run/app.sock"));
    assertEquals(Path.of("run/app.sock").toAbsolutePath(), address.path().orElseThrow());
    assertEquals(address, UnixSocketAddress.parse("run/app.sock"));
    String deep = "d/".repeat(200) + "s";
    assertRejected(IllegalArgumentException.class, "sun_path", () -> UnixSocketAddress.parse(deep));
  }

  @Test
  void listenerAndConnectionFactoriesRejectNullsAndNegatives() {
    Path socket = dir.resolve("s");
    assertRejected(NullPointerException.class, "socket path", () -> UnixListener.bind((Path) null));
    assertRejected(
        NullPointerException.class,
        "options",
        () -> UnixListener.bind(socket, (ListenerOptions) null));
    assertRejected(
        NullPointerException.class,
        "address",
        () -> UnixListener.bind((UnixSocketAddress) null, ListenerOptions.defaults()));
    assertRejected(
        IllegalArgumentException.class, "backlog", () -> new ListenerOptions(0, true, true));
    assertRejected(
        IllegalArgumentException.class,
        "backlog",
        () -> ListenerOptions.defaults().withBacklog(-1));
    assertRejected(
        NullPointerException.class, "socket path", () -> UnixConnection.connect((Path) null));
    UnixSocketAddress address = UnixSocketAddress.of(socket);
    assertRejected(
        NullPointerException.class, "address", () -> UnixConnection.connect(null, Duration.ZERO));
    assertRejected(
        NullPointerException.class, "timeout", () -> UnixConnection.connect(address, null));
    assertRejected(
        IllegalArgumentException.class,
        "negative",
        () -> UnixConnection.connect(address, Duration.ofMillis(-1)));
  }

  @Test
  void connectionMethodsRejectBadArguments() throws Exception {
    try (UnixListener listener = UnixListener.bind(dir.resolve("s"));
        UnixConnection client = UnixConnection.connect(dir.resolve("s"));
        UnixConnection server = listener.accept()) {
      assertRejected(NullPointerException.class, "timeout", () -> client.setReadTimeout(null));
      assertRejected(NullPointerException.class, "timeout", () -> client.setWriteTimeout(null));
      assertRejected(
          IllegalArgumentException.class,
          "negative",
          () -> client.setReadTimeout(Duration.ofNanos(-1)));
      assertRejected(
          IllegalArgumentException.class,
          "negative",
          () -> client.setWriteTimeout(Duration.ofNanos(-1)));
      assertRejected(NullPointerException.class, "buffer", () -> client.read(null));
      assertRejected(NullPointerException.class, "buffer", () -> client.write(null));
      assertRejected(NullPointerException.class, "bytes", () -> client.writeFully(null, 0, 0));
      assertThrows(IndexOutOfBoundsException.class, () -> client.writeFully(new byte[4], 2, 3));
      assertThrows(IndexOutOfBoundsException.class, () -> client.writeFully(new byte[4], -1, 1));
      assertThrows(
          IndexOutOfBoundsException.class, () -> client.inputStream().read(new byte[4], 0, 5));
      assertRejected(
          IllegalArgumentException.class,
          "read-only",
          () -> client.read(ByteBuffer.allocate(4).asReadOnlyBuffer()));
      // A timeout beyond what a long holds in nanoseconds means "no limit", not an overflow.
      client.setReadTimeout(Duration.ofSeconds(Long.MAX_VALUE));
      client.setWriteTimeout(Duration.ofSeconds(Long.MAX_VALUE));
      server.writeFully(new byte[] {7}, 0, 1);
      assertEquals(7, client.inputStream().read());
    }
  }

  @Test
  void credentialsRejectOutOfRangeValues() {
    assertRejected(
        IllegalArgumentException.class, "file descriptor", () -> PeerCredentials.read(-1));
    assertRejected(NullPointerException.class, "pid", () -> new PeerCredentials(null, 0, 0));
    assertRejected(
        IllegalArgumentException.class,
        "uid",
        () -> new PeerCredentials(OptionalLong.empty(), -1, 0));
    assertRejected(
        IllegalArgumentException.class,
        "gid",
        () -> new PeerCredentials(OptionalLong.empty(), 0, 1L << 32));
    assertRejected(
        IllegalArgumentException.class, "pid", () -> new PeerCredentials(OptionalLong.of(0), 0, 0));
    PeerCredentialsException e =
        assertThrows(PeerCredentialsException.class, () -> PeerCredentials.read(Integer.MAX_VALUE));
    assertTrue(e.getMessage().contains("EBADF"), e.getMessage());
  }
}
