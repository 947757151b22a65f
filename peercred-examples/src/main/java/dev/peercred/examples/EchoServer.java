package dev.peercred.examples;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The echo server of "Using SO_PEERCRED in Go", in Java: it answers only the user who started it.
 *
 * <p>Every line a client sends comes back prefixed with {@code "> "}. A client whose uid differs
 * from the server's, root included unless the server runs as root, reads {@code "Unauthorized
 * access\n"} and then a clean end of stream, and the server logs {@code UID mismatch (<client uid>
 * != <server uid>). Closing connection.} Each connection is served by its own virtual thread. Lines
 * longer than {@link #MAX_LINE} bytes end the connection with an error message.
 */
public final class EchoServer implements AutoCloseable {
  /** The article's socket path. */
  public static final Path DEFAULT_SOCKET = Path.of("/tmp/echo.sock");

  /** The longest line echoed, in bytes, without its newline. */
  public static final int MAX_LINE = 64 * 1024;

  private static final int INITIAL_BUFFER = 256;
  private static final int BULK_BUFFER = 64 * 1024;

  private static final System.Logger LOG = System.getLogger("dev.peercred.echo");
  private static final byte[] UNAUTHORIZED = "Unauthorized access\n".getBytes();
  private static final byte[] PREFIX = {'>', ' '};

  private final UnixListener listener;
  private final long ownerUid;

  /** Serves on {@code listener}, answering only clients whose uid is {@code ownerUid}. */
  public EchoServer(UnixListener listener, long ownerUid) {
    this.listener = listener;
    this.ownerUid = ownerUid;
  }

  /** Binds {@code socket} (replacing a stale socket file) and serves this process's own user. */
  public static EchoServer bind(Path socket) throws IOException {
    return new EchoServer(UnixListener.bind(socket), PeerCredentials.ofCurrentProcess().uid());
  }

  /** The listener this server accepts on. */
  public UnixListener listener() {
    return listener;
  }

  /**
   * Accepts and serves connections until the listener is closed, each on a virtual thread of its
   * own ({@link dev.peercred.Listener#serve}: a failing accept, for example at the descriptor
   * limit, is logged and retried after a pause, so the server neither dies nor spins).
   */
  public void run() {
    listener.serve(this::serve);
  }

  /**
   * Serves one connection: the uid check, then the echo loop.
   *
   * @param connection the accepted connection; the caller closes it
   * @throws IOException if the client goes away or the connection fails
   */
  public void serve(UnixConnection connection) throws IOException {
    PeerCredentials peer = connection.peerCredentials();
    if (!peer.hasUid(ownerUid)) {
      LOG.log(
          Level.INFO,
          "UID mismatch ({0} != {1}). Closing connection.",
          Long.toString(peer.uid()),
          Long.toString(ownerUid));
      connection.refuse(new String(UNAUTHORIZED));
      return;
    }
    LOG.log(Level.DEBUG, "serving {0}", peer);
    echo(connection);
  }

  private static void echo(UnixConnection connection) throws IOException {
    // Small buffers first: an idle connection then holds 320 bytes of them; a read that fills
    // the buffer doubles it (up to BULK_BUFFER) for connections that stream, and the reply buffer
    // grows to what the lines need.
    byte[] in = new byte[INITIAL_BUFFER];
    Reply reply = new Reply();
    int filled = 0;
    boolean full = false;
    var stream = connection.inputStream();
    while (true) {
      if (full && filled < in.length && in.length < BULK_BUFFER) {
        in = Arrays.copyOf(in, in.length * 2);
      } else if (filled == in.length) {
        if (in.length >= MAX_LINE + 1) {
          connection.refuse("error: line longer than " + MAX_LINE + " bytes\n");
          return;
        }
        in = Arrays.copyOf(in, Math.min(in.length * 2, MAX_LINE + 1));
      }
      int n = stream.read(in, filled, in.length - filled);
      full = n == in.length - filled;
      if (n < 0) {
        return; // a partial last line without newline is dropped, as the article's server does
      }
      int end = filled + n;
      int start = reply.prefixLines(in, filled, end);
      if (reply.length > 0) {
        connection.writeFully(reply.bytes, 0, reply.length);
      }
      filled = end - start;
      if (start > 0 && filled > 0) {
        System.arraycopy(in, start, in, 0, filled);
      }
    }
  }

  /** The bytes to send back for what one read completed. */
  private static final class Reply {
    byte[] bytes = new byte[64];
    int length;

    /**
     * Makes this reply the complete lines of {@code in[0..end)}, each prefixed, where no newline
     * lies before {@code from}.
     *
     * @return where the first incomplete line starts ({@code end} if none)
     */
    int prefixLines(byte[] in, int from, int end) {
      length = 0;
      int start = 0;
      for (int newline = indexOfNewline(in, from, end);
          newline >= 0;
          newline = indexOfNewline(in, newline + 1, end)) {
        int lineLength = newline + 1 - start;
        int need = length + PREFIX.length + lineLength;
        if (bytes.length < need) {
          bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, need));
        }
        System.arraycopy(PREFIX, 0, bytes, length, PREFIX.length);
        System.arraycopy(in, start, bytes, length + PREFIX.length, lineLength);
        length = need;
        start = newline + 1;
      }
      return start;
    }

    private static int indexOfNewline(byte[] bytes, int from, int end) {
      for (int i = from; i < end; i++) {
        if (bytes[i] == '\n') {
          return i;
        }
      }
      return -1;
    }
  }

  /** Stops accepting and removes the socket file; connections being served run to their end. */
  @Override
  public void close() {
    listener.close();
  }

  /** Runs the server: {@code EchoServer [SOCKET]}, default {@code /tmp/echo.sock}. */
  public static void main(String[] args) throws IOException {
    Path socket = args.length > 0 ? Path.of(args[0]) : DEFAULT_SOCKET;
    EchoServer server = bind(socket);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    System.err.println(
        "echo server listening on "
            + server.listener().localAddress()
            + ", answering uid "
            + server.ownerUid);
    server.run();
  }
}
