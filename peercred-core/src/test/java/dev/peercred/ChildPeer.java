package dev.peercred;

import java.io.OutputStream;
import java.nio.file.Path;

/**
 * A client in its own process: {@code ChildPeer SOCKET MODE} connects, prints {@code connected
 * PID}, then either holds the connection without reading ({@code hold}) until its standard input
 * ends (the test closes it, kills the process, or is gone), or writes to it forever ({@code
 * write}).
 */
public final class ChildPeer {
  private ChildPeer() {}

  public static void main(String[] args) throws Exception {
    UnixConnection connection = UnixConnection.connect(Path.of(args[0]));
    System.out.println("connected " + ProcessHandle.current().pid());
    System.out.flush();
    if (args[1].equals("write")) {
      byte[] chunk = new byte[64 * 1024];
      while (true) {
        connection.writeFully(chunk, 0, chunk.length);
      }
    }
    System.in.transferTo(OutputStream.nullOutputStream());
  }
}
