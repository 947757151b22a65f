package dev.peercred.examples;

import dev.peercred.testing.PythonClient;
import dev.peercred.testing.Tools;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The python3 clients of the example tests. */
final class ExampleClients {
  private ExampleClients() {}

  /**
   * The test client ({@link PythonClient}) sending {@code lines}, each ended by a line feed, to
   * {@code socket}; it shuts its output down after them if {@code shutdownOutput}.
   */
  static List<String> lineClient(Path socket, boolean shutdownOutput, String... lines) {
    StringBuilder text = new StringBuilder();
    for (String line : lines) {
      text.append(line).append('\n');
    }
    return PythonClient.command(socket, text.toString(), shutdownOutput);
  }

  /** {@code /usr/bin/python3 -c script args...}; skips the test if python3 is missing. */
  static List<String> python(String script, String... args) {
    List<String> command = new ArrayList<>(List.of(Tools.python3().toString(), "-c", script));
    command.addAll(List.of(args));
    return command;
  }
}
