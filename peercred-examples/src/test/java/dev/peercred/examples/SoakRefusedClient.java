package dev.peercred.examples;

import dev.peercred.UnixConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code SoakRefusedClient SOCKET COUNT}: connects {@code COUNT} times to an echo server that does
 * not answer this process's user, reads each refusal to its end, and prints how many read exactly
 * {@code "Unauthorized access\n"} then end of stream.
 */
public final class SoakRefusedClient {
  private SoakRefusedClient() {}

  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    int refused = 0;
    for (int i = 0; i < count; i++) {
      try (UnixConnection connection = UnixConnection.connect(socket)) {
        byte[] got = connection.inputStream().readAllBytes();
        if (new String(got, StandardCharsets.US_ASCII).equals("Unauthorized access\n")) {
          refused++;
        }
      }
    }
    System.out.println(refused);
  }
}
