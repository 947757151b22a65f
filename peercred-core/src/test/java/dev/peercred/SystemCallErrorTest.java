package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exceptions made from an errno keep the JDK type callers catch and say, typed, which call failed
 * with which errno; nobody has to read the message to tell {@code ECONNREFUSED} from {@code
 * EACCES}.
 */
@Timeout(30)
class SystemCallErrorTest {
  @TempDir Path dir;

  private static SystemCallError assertFailed(
      Throwable thrown, String call, int errno, String errnoName) {
    SystemCallError failed = assertInstanceOf(SystemCallError.class, thrown);
    assertEquals(call, failed.call(), thrown.toString());
    assertEquals(errno, failed.errno(), thrown.toString());
    assertEquals(errnoName, failed.errnoName(), thrown.toString());
    assertTrue(thrown.getMessage().startsWith(call + " failed: " + errnoName), thrown.getMessage());
    // Logs name the type callers catch, not the internal class.
    assertFalse(thrown.toString().startsWith("dev.peercred.internal"), thrown.toString());
    return failed;
  }

  @Test
  void bindingInAMissingDirectoryIsABindExceptionWithEnoent() {
    var e = assertThrows(BindException.class, () -> UnixListener.bind(dir.resolve("no/s.sock")));
    assertFailed(e, "bind", 2, "ENOENT");
  }

  @Test
  void connectingIsAConnectExceptionWithEnoentOrEconnrefused() throws Exception {
    var missing =
        assertThrows(ConnectException.class, () -> UnixConnection.connect(dir.resolve("none")));
    assertFailed(missing, "connect", 2, "ENOENT");

    Path stale = dir.resolve("stale.sock");
    UnixListener.bind(stale, ListenerOptions.defaults().withRemoveOnClose(false)).close();
    var refused = assertThrows(ConnectException.class, () -> UnixConnection.connect(stale));
    assertFailed(refused, "connect", 111, "ECONNREFUSED");
    assertEquals("java.net.ConnectException: " + refused.getMessage(), refused.toString());
  }

  @Test
  void aSecondBindIsAnAddressInUseExceptionWithEaddrinuse() throws Exception {
    var name = UnixSocketAddress.ofAbstract("peercred-errno-" + ProcessHandle.current().pid());
    try (UnixListener first = UnixListener.bind(name, ListenerOptions.defaults())) {
      var e =
          assertThrows(
              AddressInUseException.class,
              () -> UnixListener.bind(name, ListenerOptions.defaults()));
      assertFailed(e, "bind", 98, "EADDRINUSE");
      assertEquals(name, e.address());
    }
    Path path = dir.resolve("s.sock");
    try (UnixListener first = UnixListener.bind(path)) {
      var e =
          assertThrows(
              AddressInUseException.class,
              () ->
                  UnixListener.bind(
                      path, ListenerOptions.defaults().withReplaceStaleSocket(false)));
      assertFailed(e, "bind", 98, "EADDRINUSE");
      assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
    }
  }

  @Test
  void credentialsOfADescriptorThatIsNoSocketFailWithEbadfOrEnotsock() {
    var closed = assertThrows(PeerCredentialsException.class, () -> PeerCredentials.read(99_999));
    assertFailed(closed, "getsockopt(SO_PEERCRED)", 9, "EBADF");
  }

  @Test
  void aResetConnectionIsASocketExceptionWithEconnreset() throws Exception {
    try (ConnectionPair pair = UnixConnection.pair()) {
      pair.second().writeFully(new byte[10], 0, 10);
      pair.first().close(); // unread data: the kernel resets the connection
      var e =
          assertThrows(SocketException.class, () -> pair.second().inputStream().read(new byte[10]));
      assertFailed(e, "recv", 104, "ECONNRESET");
    }
  }

  @Test
  void ofFindsTheFailedCallAnywhereInTheCauseChain() throws Exception {
    SocketException failure;
    try (ConnectionPair pair = UnixConnection.pair()) {
      pair.first().close();
      failure =
          assertThrows(SocketException.class, () -> pair.second().writeFully(new byte[1], 0, 1));
    }
    SystemCallError failed = assertFailed(failure, "send", 32, "EPIPE");
    assertSame(failed, SystemCallError.of(failure).orElseThrow());
    var wrapped = new UncheckedIOException(new IOException("copying failed", failure));
    assertSame(failed, SystemCallError.of(wrapped).orElseThrow());
    assertEquals(Optional.empty(), SystemCallError.of(new IOException("no errno here")));
  }

  @Test
  void ofWalksALoopingCauseChainOnce() {
    var a = new IOException("a");
    var b = new IOException("b", a);
    a.initCause(b);
    assertEquals(Optional.empty(), SystemCallError.of(a));
    assertThrows(NullPointerException.class, () -> SystemCallError.of(null));
  }
}
