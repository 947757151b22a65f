package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.JavaCommand;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The pollers start at the first wait, not when a class loads; a start that fails (no descriptor
 * for {@code epoll_create1} at the process's limit) fails that wait with an {@link
 * java.io.IOException} that carries the failed call and its errno, fails the next one the same way,
 * and the first wait after descriptors are free again starts the poller and works.
 */
@Timeout(120)
class PollerStartTest {
  @Test
  void aPollerThatCannotStartAtEmfileFailsEachWaitAndStartsOnceDescriptorsAreFree()
      throws Exception {
    Assumptions.assumeTrue(
        new File("/usr/bin/prlimit").canExecute(),
        "SKIPPED LOUDLY: prlimit (util-linux) is missing; it sets the child's descriptor limit");
    List<String> command = new ArrayList<>(List.of("/usr/bin/prlimit", "--nofile=256:256"));
    command.addAll(JavaCommand.main(PollerStartProbe.class).toList());
    List<String> lines;
    try (ChildProcess child = ChildProcess.builder(command).mergeStderr().start()) {
      lines = child.assertExit(0).stdoutLines();
    }
    String output = String.join("\n", lines);
    assertEquals("exhausted EMFILE", lines.get(0), output);
    for (int attempt = 1; attempt <= 2; attempt++) {
      String line = lines.get(attempt);
      assertTrue(line.startsWith("attempt " + attempt + " "), output);
      assertTrue(line.contains(" ioexception=true call=epoll_create1 errno=EMFILE "), output);
    }
    assertEquals("recovered 1", lines.get(3), output);
  }
}
