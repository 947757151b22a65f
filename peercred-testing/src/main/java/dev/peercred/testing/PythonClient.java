package dev.peercred.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The one socket client tests run as a separate process (as another user with {@link Users#as}):
 * {@code /usr/bin/python3} connects to a Unix socket, sends some text, optionally shuts its output
 * down, then prints everything it receives until end of stream.
 *
 * <p>It reads whatever a refusing server wrote, in every interleaving: a server that answers and
 * closes before the client has sent makes the send fail ({@code EPIPE}, {@code ECONNRESET}); one
 * that closes with the client's bytes unread makes the read after its answer fail ({@code
 * ECONNRESET}). Neither loses what the server sent, and neither is an error of the client.
 */
public final class PythonClient {
  private PythonClient() {}

  private static final String SCRIPT =
      """
      import socket, sys
      s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      s.connect(sys.argv[1])
      try:
          if sys.argv[2]:
              s.sendall(sys.argv[2].encode())
          if sys.argv[3] == "shutdown":
              s.shutdown(socket.SHUT_WR)
      except (BrokenPipeError, ConnectionResetError):
          pass  # the server closed first; what it wrote is still to be read
      data = b""
      try:
          while True:
              chunk = s.recv(65536)
              if not chunk:
                  break
              data += chunk
      except ConnectionResetError:
          pass  # the server closed with our bytes unread, after everything it sent
      sys.stdout.write(data.decode())
      """;

  /**
   * The command line of a client that sends {@code text} to {@code socket} (nothing if empty),
   * shuts its output down if {@code shutdownOutput}, and prints what it receives; skips the calling
   * test if python3 is missing.
   */
  public static List<String> command(Path socket, String text, boolean shutdownOutput) {
    return command(Tools.python3(), socket, text, shutdownOutput);
  }

  /** Like {@link #command(Path, String, boolean)}, run by the Python interpreter {@code python}. */
  public static List<String> command(
      Path python, Path socket, String text, boolean shutdownOutput) {
    List<String> command = new ArrayList<>();
    command.add(Tools.require(python).toString());
    command.addAll(
        List.of("-c", SCRIPT, socket.toString(), text, shutdownOutput ? "shutdown" : "keep"));
    return command;
  }

  /** {@code prefix} (such as {@link Users#as}) followed by {@code command}. */
  public static List<String> as(List<String> prefix, List<String> command) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(command);
    return all;
  }
}
