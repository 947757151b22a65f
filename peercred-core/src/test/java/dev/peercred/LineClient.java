package dev.peercred;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A child-process client: connects to {@code args[0]}, prints its own pid and the server's
 * credentials, sends the remaining arguments as lines, half-closes, and prints everything it reads.
 */
public final class LineClient {
  private LineClient() {}

  public static void main(String[] args) throws IOException {
    try (UnixConnection connection = UnixConnection.connect(Path.of(args[0]))) {
      System.out.println("pid " + ProcessHandle.current().pid());
      System.out.println("server " + connection.peerCredentials());
      StringBuilder lines = new StringBuilder();
      for (int i = 1; i < args.length; i++) {
        lines.append(args[i]).append('\n');
      }
      connection.outputStream().write(lines.toString().getBytes(StandardCharsets.UTF_8));
      try {
        connection.shutdownOutput();
      } catch (IOException refusedAlready) {
        // a refused client may find the server gone; what it received is still printed
      }
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      connection.inputStream().transferTo(received);
      System.out.print("received " + received.toString(StandardCharsets.UTF_8));
      System.out.flush();
    }
  }
}
