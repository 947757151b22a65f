package dev.peercred;

import java.nio.file.Path;

/**
 * A client in its own process: {@code ChildPeer SOCKET MODE} connects, prints {@code connected},
 * then either holds the connection without reading ({@code hold}) or writes to it forever ({@code
 * write}) until it is killed.
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
    Thread.sleep(Long.MAX_VALUE);
  }
}
