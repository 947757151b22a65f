package dev.peercred;

import dev.peercred.testing.Descriptors;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/** Descriptor counts of this process, for tests that check nothing is left open. */
final class DescriptorBaseline {
  private DescriptorBaseline() {}

  /**
   * What each open descriptor of this process points to, as {@code fd -> target}, after one
   * connection has been made and closed, so that descriptors opened once per process (the pollers'
   * epoll instances) are part of the baseline. Compare with {@link Descriptors#awaitBackTo}.
   */
  static Map<Integer, String> take() throws IOException {
    var name = UnixSocketAddress.ofAbstract("peercred-warm-up-" + ProcessHandle.current().pid());
    try (UnixListener listener = UnixListener.bind(name, ListenerOptions.defaults());
        UnixConnection client = UnixConnection.connect(name, Duration.ZERO);
        UnixConnection server = listener.accept()) {
      client.writeFully(new byte[1], 0, 1);
      server.inputStream().read();
    }
    return Descriptors.snapshot();
  }

  /** The descriptor number in {@code UnixConnection[fd=12, ...]}. */
  static int fdOf(Object socketOwner) {
    String s = socketOwner.toString();
    int i = s.indexOf("fd=") + 3;
    int j = i;
    while (j < s.length() && Character.isDigit(s.charAt(j))) {
      j++;
    }
    return Integer.parseInt(s.substring(i, j));
  }
}
