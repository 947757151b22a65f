package dev.peercred.cli;

import dev.peercred.UnixSocketAddress;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code peercred} command. */
@Command(
    name = "peercred",
    mixinStandardHelpOptions = true,
    version = "peercred 0.1.0",
    description = "Unix domain socket servers and tools that know who is on the other end.",
    subcommands = {
      EchoCommand.class,
      KvCommand.class,
      WhoamiCommand.class,
      ProxyCommand.class,
      GrpcDemoCommand.class,
      GrpcWhoAmICommand.class,
      HttpDemoCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main {
  private Main() {}

  /** Exit code for bad arguments, as in sysexits.h EX_USAGE. */
  public static final int EXIT_USAGE = 64;

  /** Exit code when the socket cannot be set up (EX_UNAVAILABLE for missing backends, etc.). */
  public static final int EXIT_FAILURE = 1;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code. */
  public static int run(String... args) {
    configureLogging();
    CommandLine cli = new CommandLine(new Main());
    cli.setExitCodeExceptionMapper(e -> EXIT_FAILURE);
    cli.setParameterExceptionHandler(
        (e, ignored) -> {
          CommandLine command = e.getCommandLine();
          command.getErr().println("peercred: " + e.getMessage());
          command
              .getErr()
              .println("Try '" + command.getCommandSpec().qualifiedName() + " --help'.");
          return EXIT_USAGE;
        });
    cli.setExecutionExceptionHandler(
        (e, command, ignored) -> {
          command.getErr().println("peercred " + command.getCommandName() + ": " + describe(e));
          return e instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILURE;
        });
    return cli.execute(args);
  }

  /**
   * The file-system path of a SOCKET argument; the example servers and their clients take no
   * abstract names.
   *
   * @throws IllegalArgumentException naming the command if the text is not a valid socket path
   */
  static Path socketPath(String command, String text) {
    return UnixSocketAddress.parse(text)
        .path()
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    command + " needs a socket path, not an abstract name: " + text));
  }

  static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.toString() : message;
  }

  /** One line per record, on standard error, unless the user configured logging. */
  private static void configureLogging() {
    if (System.getProperty("java.util.logging.config.file") == null
        && System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty(
          "java.util.logging.SimpleFormatter.format", "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
    }
  }
}
