package dev.peercred;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A process started through socket activation by {@link SocketActivationTest}: it takes its
 * inherited sockets, then on each one accepts a connection and writes a report to it (and to
 * standard output): the names, the address, the peer's credentials, and what child processes see of
 * the activation variables.
 *
 * <p>Arguments: {@code all}, {@code index:N} or {@code name:NAME}. Exit code 3 with a line {@code
 * error REASON message} when activation fails.
 */
public final class ActivationProbe {
  private ActivationProbe() {}

  public static void main(String[] args) throws Exception {
    String how = args.length > 0 ? args[0] : "all";
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    List<UnixListener> listeners = new ArrayList<>();
    StringBuilder report = new StringBuilder();
    try {
      report.append("inherited=").append(SocketActivation.isInherited()).append('\n');
      report.append("names=").append(String.join(",", SocketActivation.names())).append('\n');
      listeners.addAll(take(how));
      try {
        take(how); // a second time
        report.append("second-take=allowed\n");
      } catch (SocketActivationException e) {
        report.append("second-take=").append(e.reason()).append('\n');
      }
    } catch (SocketActivationException e) {
      out.println("error " + e.reason() + " " + e.getMessage());
      out.println("child-env " + childSees(false));
      System.exit(3);
    }
    report.append("child-env ").append(childSees(false)).append('\n');
    report.append("child-env-copied ").append(childSees(true)).append('\n');
    report.append("child-env-stripped ").append(childStripped()).append('\n');
    report.append("jvm-getenv LISTEN_PID=").append(System.getenv("LISTEN_PID")).append('\n');
    out.print(report);
    for (UnixListener listener : listeners) {
      try (listener;
          UnixConnection connection = listener.accept()) {
        String text =
            report
                + "address="
                + listener.localAddress()
                + "\npeer-pid="
                + connection.peerCredentials().pid().orElse(-1)
                + "\npeer-uid="
                + connection.peerCredentials().uid()
                + "\nself-pid="
                + ProcessHandle.current().pid()
                + "\n";
        connection.writeFully(text.getBytes(StandardCharsets.UTF_8), 0, text.length());
        connection.shutdownOutput();
        connection.inputStream().read(); // wait for the client to close
      }
    }
  }

  private static List<UnixListener> take(String how) throws IOException {
    if (how.startsWith("index:")) {
      return List.of(SocketActivation.listener(Integer.parseInt(how.substring(6))));
    }
    if (how.startsWith("name:")) {
      return List.of(SocketActivation.listener(how.substring(5)));
    }
    return SocketActivation.listeners();
  }

  private static String childSees(boolean copyEnvironment)
      throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(
            "/bin/sh", "-c", "echo LISTEN_PID=${LISTEN_PID-unset} LISTEN_FDS=${LISTEN_FDS-unset}");
    if (copyEnvironment) {
      builder.environment().put("PROBE", "1"); // the JVM's start-up snapshot becomes the child's
    }
    return run(builder);
  }

  private static String childStripped() throws IOException, InterruptedException {
    ProcessBuilder builder =
        new ProcessBuilder(
            "/bin/sh", "-c", "echo LISTEN_PID=${LISTEN_PID-unset} LISTEN_FDS=${LISTEN_FDS-unset}");
    builder.environment().put("PROBE", "1");
    return run(SocketActivation.removeVariables(builder));
  }

  private static String run(ProcessBuilder builder) throws IOException, InterruptedException {
    builder.redirectErrorStream(true);
    Process process = builder.start();
    String output =
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    process.waitFor();
    return output;
  }
}
