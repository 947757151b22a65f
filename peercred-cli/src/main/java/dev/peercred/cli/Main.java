package dev.peercred.cli;

import dev.peercred.UnixSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The {@code peercred} command.
 *
 * <p>Only the subcommand being run is built: picocli reads a command's annotations and fields by
 * reflection, which costs more start-up time than the whole of {@code whoami}'s work, and the gRPC
 * and HTTP demos need libraries (gRPC, Jetty) that the other commands do not put on the class path.
 * The full tree, for {@code peercred --help} and mistakes, lists those by name and summary without
 * loading them.
 */
@Command(
    name = "peercred",
    mixinStandardHelpOptions = true,
    version = "peercred 0.1.0",
    description = "Unix domain socket servers and tools that know who is on the other end.")
public final class Main {
  private Main() {}

  /** Exit code for bad arguments, as in sysexits.h EX_USAGE. */
  public static final int EXIT_USAGE = 64;

  /** Exit code when the socket cannot be set up (EX_UNAVAILABLE for missing backends, etc.). */
  public static final int EXIT_FAILURE = 1;

  /**
   * A subcommand: its name, how to make it, the summary that lists it without making it, and the
   * libraries it needs beyond the tool's own (the launcher's {@code lib/NAME} directory), if any.
   */
  private record Subcommand(
      String name, Supplier<Object> create, String summary, Library library) {}

  /** Libraries that only some commands need, with the packages their classes are in. */
  private enum Library {
    GRPC("grpc", "gRPC", "dev/peercred/examples/grpc/|dev/peercred/grpc/|io/grpc/|com/google/"),
    HTTP(
        "http",
        "Jetty",
        "dev/peercred/examples/http/|dev/peercred/jetty/|org/eclipse/jetty/|org/slf4j/");

    final String directory;
    final String title;
    final Pattern packages;

    Library(String directory, String title, String packages) {
      this.directory = directory;
      this.title = title;
      this.packages = Pattern.compile(packages);
    }
  }

  private static final List<Subcommand> SUBCOMMANDS =
      List.of(
          new Subcommand("echo", EchoCommand::new, null, null),
          new Subcommand("kv", KvCommand::new, null, null),
          new Subcommand("whoami", WhoamiCommand::new, null, null),
          new Subcommand("proxy", ProxyCommand::new, null, null),
          new Subcommand("rules-from-audit", RulesFromAuditCommand::new, null, null),
          // Lambdas, not constructor references: the class is loaded only when the command runs.
          new Subcommand(
              "grpc-demo", () -> new GrpcDemoCommand(), GrpcDemoCommand.SUMMARY, Library.GRPC),
          new Subcommand(
              "grpc-whoami",
              () -> new GrpcWhoAmICommand(),
              GrpcWhoAmICommand.SUMMARY,
              Library.GRPC),
          new Subcommand(
              "http-demo", () -> new HttpDemoCommand(), HttpDemoCommand.SUMMARY, Library.HTTP));

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code. */
  public static int run(String... args) {
    configureLogging();
    try {
      return execute(commandLine(args), args);
    } catch (NoClassDefFoundError e) {
      // Only the demos need classes that the class path may lack (java -jar, say).
      String missing = String.valueOf(e.getMessage());
      for (Library library : Library.values()) {
        if (library.packages.matcher(missing).lookingAt()) {
          System.err.println(
              "peercred: "
                  + String.join(" ", args)
                  + ": the "
                  + library.title
                  + " libraries are not on the class path (no "
                  + missing.replace('/', '.')
                  + "); run it with the peercred launcher, or add lib/"
                  + library.directory
                  + "/* next to peercred.jar to the class path");
          return EXIT_FAILURE;
        }
      }
      throw e;
    }
  }

  private static int execute(CommandLine cli, String[] args) {
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
   * The command tree for {@code args}: the root with just the subcommand named by the first
   * argument that is not an option (and {@code help} with just the one it names), or with all of
   * them when there is none or it is not one of them.
   */
  private static CommandLine commandLine(String[] args) {
    CommandLine cli = new CommandLine(new Main());
    int first = 0;
    while (first < args.length && args[first].startsWith("-")) {
      first++;
    }
    String name = first < args.length ? args[first] : null;
    Optional<Subcommand> chosen = find(name);
    if (chosen.isPresent()) {
      cli.addSubcommand(name, chosen.get().create().get());
      return cli;
    }
    if ("help".equals(name)) {
      cli.addSubcommand("help", new CommandLine.HelpCommand());
      Optional<Subcommand> topic = find(first + 1 < args.length ? args[first + 1] : null);
      if (topic.isPresent()) {
        cli.addSubcommand(topic.get().name(), topic.get().create().get());
        return cli;
      }
    }
    for (Subcommand subcommand : SUBCOMMANDS) {
      if (subcommand.library() != null) {
        CommandSpec listed = CommandSpec.create().name(subcommand.name());
        listed.usageMessage().description(subcommand.summary());
        cli.addSubcommand(subcommand.name(), new CommandLine(listed));
      } else {
        cli.addSubcommand(subcommand.name(), subcommand.create().get());
      }
    }
    if (!"help".equals(name)) {
      cli.addSubcommand("help", new CommandLine.HelpCommand());
    }
    return cli;
  }

  private static Optional<Subcommand> find(String name) {
    return SUBCOMMANDS.stream().filter(s -> s.name().equals(name)).findFirst();
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
