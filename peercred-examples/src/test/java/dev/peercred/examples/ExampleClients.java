package dev.peercred.examples;

import dev.peercred.testing.Tools;
import java.util.ArrayList;
import java.util.List;

/** The python3 clients of the example tests. */
final class ExampleClients {
  private ExampleClients() {}

  /** A python3 client: connects, sends the lines, prints everything it receives until EOF. */
  static final String LINE_CLIENT =
      """
      import socket, sys
      s = socket.socket(socket.AF_UNIX)
      s.connect(sys.argv[1])
      s.sendall("".join(line + "\\n" for line in sys.argv[2:]).encode())
      data = b""
      while True:
          chunk = s.recv(65536)
          if not chunk:
              break
          data += chunk
      sys.stdout.write(data.decode())
      """;

  /** {@code /usr/bin/python3 -c script args...}; skips the test if python3 is missing. */
  static List<String> python(String script, String... args) {
    List<String> command = new ArrayList<>(List.of(Tools.python3().toString(), "-c", script));
    command.addAll(List.of(args));
    return command;
  }

  /** {@code prefix} followed by {@code command}. */
  static List<String> concat(List<String> prefix, List<String> command) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(command);
    return all;
  }
}
