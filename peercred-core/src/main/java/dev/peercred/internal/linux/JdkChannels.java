package dev.peercred.internal.linux;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Reads from the socket descriptor of a JDK {@link SocketChannel} of family {@code UNIX}, which the
 * JDK does not expose publicly.
 *
 * <p><b>How the descriptor is reached.</b> Every channel of the JDK's default provider implements
 * the public interface {@code sun.nio.ch.SelChImpl}, whose public {@code getFDVal()} returns the
 * channel's own descriptor: an exact answer, never a guess. {@code java.base} does not export
 * {@code sun.nio.ch}, so the JVM must be started with {@code --add-exports
 * java.base/sun.nio.ch=dev.peercred} (module path) or {@code =ALL-UNNAMED} (class path), or an
 * executable JAR must carry the manifest attribute {@code Add-Exports: java.base/sun.nio.ch}.
 * {@code --add-opens} is not needed: the method is public, only its package is not exported.
 * Without the export, every call throws {@link UnsupportedOperationException} naming the option.
 *
 * <p><b>Why the number cannot name another file.</b> The JDK marks a channel closed ({@code
 * isOpen()} false, a volatile write) before it closes or replaces ({@code dup2} onto a "pre-closed"
 * socket) the descriptor, and it never changes the number of an open channel. So the read runs
 * first and {@code isOpen()} is checked after it: if the channel is still open then, the descriptor
 * was the channel's socket for the whole read. If it was closed meanwhile, the result is discarded
 * and {@link AsynchronousCloseException} thrown, whatever the read returned.
 */
public final class JdkChannels {
  private JdkChannels() {}

  /** A read of a descriptor that the caller holds open for its duration. */
  @FunctionalInterface
  public interface DescriptorRead<T> {
    /**
     * Reads from {@code fd}.
     *
     * @throws IOException if the read fails
     */
    T read(int fd) throws IOException;
  }

  /**
   * Runs {@code read} on the descriptor of {@code channel}, a connected JDK socket channel of
   * family {@code UNIX}, and returns what it read, or throws if the channel closed during the read
   * (after handing a result to {@code discard}, to release what it holds).
   *
   * @param what the public method being served, for messages: {@code PeerCredentials.of}
   * @throws ClosedChannelException if the channel is closed before the call
   * @throws AsynchronousCloseException if it is closed during the call
   * @throws IllegalArgumentException if the channel is not a connected Unix domain socket channel
   *     of the JDK
   * @throws UnsupportedOperationException if {@code sun.nio.ch} is not exported to this module, or
   *     on a platform other than Linux
   */
  public static <T> T readConnected(
      SocketChannel channel, String what, DescriptorRead<T> read, Consumer<? super T> discard)
      throws IOException {
    Objects.requireNonNull(channel, "channel");
    int fd = descriptor(channel, what);
    T result;
    try {
      result = read.read(fd);
    } catch (IOException | RuntimeException e) {
      if (!channel.isOpen()) {
        throw closedDuring(e);
      }
      throw e;
    }
    if (!channel.isOpen()) {
      discard.accept(result);
      throw closedDuring(null);
    }
    return result;
  }

  private static AsynchronousCloseException closedDuring(Exception cause) {
    AsynchronousCloseException closed = new AsynchronousCloseException();
    if (cause != null) {
      closed.initCause(cause);
    }
    return closed;
  }

  /** Checks the channel and returns its descriptor; only valid while the channel stays open. */
  private static int descriptor(SocketChannel channel, String what) throws IOException {
    Platform.ensureSupported();
    if (!channel.isOpen()) {
      throw new ClosedChannelException();
    }
    if (!channel.isConnected()) {
      if (!channel.isOpen()) {
        throw new ClosedChannelException(); // closed by another thread since the check above
      }
      throw new IllegalArgumentException(
          what
              + " needs a connected channel; this one is "
              + (channel.isConnectionPending() ? "still connecting" : "not connected"));
    }
    SocketAddress remote = channel.getRemoteAddress(); // throws ClosedChannelException if closed
    if (!(remote instanceof UnixDomainSocketAddress)) {
      throw new IllegalArgumentException(
          what
              + " needs a channel of family UNIX (a Unix domain stream socket); this one is"
              + " connected to "
              + remote);
    }
    if (Access.FAILURE != null) {
      throw new UnsupportedOperationException(what + " " + Access.FAILURE);
    }
    if (!Access.SEL_CH_IMPL.isInstance(channel)) {
      throw new IllegalArgumentException(
          what
              + " needs a channel of the JDK's own SelectorProvider (SocketChannel.open or"
              + " ServerSocketChannel.accept); this one is a "
              + channel.getClass().getName());
    }
    try {
      return (int) Access.GET_FD_VAL.invokeExact(channel);
    } catch (Throwable e) {
      throw new AssertionError("sun.nio.ch.SelChImpl.getFDVal() failed on " + channel, e);
    }
  }

  /**
   * The option that gives this module access to the descriptor: {@code --add-exports
   * java.base/sun.nio.ch=dev.peercred}, or {@code =ALL-UNNAMED} when this code is on the class
   * path.
   */
  public static String requiredOption() {
    Module self = JdkChannels.class.getModule();
    return "--add-exports java.base/sun.nio.ch="
        + (self.isNamed() ? self.getName() : "ALL-UNNAMED");
  }

  /** True if this JVM lets this module read JDK channels' descriptors. Never throws. */
  public static boolean isAccessible() {
    return Access.FAILURE == null;
  }

  /** Looked up once, on first use; holds the reason instead of throwing. */
  private static final class Access {
    static final Class<?> SEL_CH_IMPL;
    static final MethodHandle GET_FD_VAL;
    static final String FAILURE;

    static {
      Class<?> type = Void.class; // never used: FAILURE says why
      MethodHandle getter = null;
      String failure;
      try {
        type = Class.forName("sun.nio.ch.SelChImpl", false, null);
        Module self = JdkChannels.class.getModule();
        if (!Object.class.getModule().isExported("sun.nio.ch", self)) {
          failure =
              "needs the channel's descriptor, which java.base does not export to "
                  + (self.isNamed() ? "module " + self.getName() : "the class path")
                  + ": start the JVM with "
                  + requiredOption()
                  + " (an executable JAR can carry the manifest attribute 'Add-Exports:"
                  + " java.base/sun.nio.ch' instead)";
        } else {
          getter =
              MethodHandles.lookup()
                  .findVirtual(type, "getFDVal", MethodType.methodType(int.class))
                  .asType(MethodType.methodType(int.class, SocketChannel.class));
          failure = null;
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        failure =
            "cannot reach the channel's descriptor on this JDK (no public"
                + " sun.nio.ch.SelChImpl.getFDVal(): "
                + e
                + ")";
      }
      SEL_CH_IMPL = type;
      GET_FD_VAL = getter;
      FAILURE = failure;
    }
  }
}
