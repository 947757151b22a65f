package dev.peercred.examples;

import dev.peercred.UnixConnection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A child-process client that opens {@code args[1]} connections to {@code args[0]}, echoes one line
 * on each, prints {@code held N}, and closes them all when its standard input ends.
 */
public final class HoldingClient {
  private HoldingClient() {}

  public static void main(String[] args) throws IOException {
    Path socket = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    byte[] ping = "ping\n".getBytes(StandardCharsets.UTF_8);
    byte[] answer = new byte[7];
    List<UnixConnection> connections = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      UnixConnection c = UnixConnection.connect(socket);
      connections.add(c);
      c.outputStream().write(ping);
      int read = 0;
      while (read < answer.length) {
        int n = c.inputStream().read(answer, read, answer.length - read);
        if (n < 0) {
          throw new IOException("connection " + i + " closed early");
        }
        read += n;
      }
    }
    System.out.println("held " + connections.size());
    System.out.flush();
    System.in.transferTo(java.io.OutputStream.nullOutputStream());
    for (UnixConnection c : connections) {
      c.close();
    }
    System.out.println("closed");
    System.out.flush();
  }
}
