package dev.peercred;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * {@code ConnectProbe ADDRESS}: connects to a path or {@code @abstract} address and prints {@code
 * connected <server uid>} followed by what the server sent, or {@code failed <exception>}.
 */
public final class ConnectProbe {
  private ConnectProbe() {}

  public static void main(String[] args) {
    try (UnixConnection connection =
        UnixConnection.connect(UnixSocketAddress.parse(args[0]), Duration.ofSeconds(60))) {
      System.out.println("connected " + connection.peerCredentials().uid());
      connection.setReadTimeout(Duration.ofSeconds(60));
      System.out.println(
          new String(connection.inputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      System.out.println("failed " + e);
    }
  }
}
