package dev.peercred.cli;

import dev.peercred.UnixSocketAddress;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The {@code peercred} command.
 *
 * <p>Only the subcommand being run is loaded: the gRPC and HTTP demos need libraries (gRPC, Jetty)
 * that the other commands do not put on the class path. {@code peercred --help} lists those by name
 * and summary without loading them.
 */
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
      String name, Supplier<Command> create, String summary, Library library) {}

  private static final Syntax ROOT =
      Syntax.command(
          "peercred", "Unix domain socket servers and tools that know who is on the other end.");

  private static final String HELP_SUMMARY =
      "Display help information about the specified command.";

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

  /** Runs the command line, writing to standard output and error, and returns the exit code. */
  public static int run(String... args) {
    return run(
        new PrintWriter(System.out, true, System.out.charset()),
        new PrintWriter(System.err, true, System.err.charset()),
        args);
  }

  /** Runs the command line, writing to {@code out} and {@code err}, and returns the exit code. */
  static int run(PrintWriter out, PrintWriter err, String... args) {
    configureLogging();
    try {
      return execute(Arrays.asList(args), out, err);
    } catch (NoClassDefFoundError e) {
      // Only the demos need classes that the class path may lack (java -jar, say).
      String missing = String.valueOf(e.getMessage());
      for (Library library : Library.values()) {
        if (library.packages.matcher(missing).lookingAt()) {
          err.println(
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
    } finally {
      out.flush();
      err.flush();
    }
  }

  /**
   * Options before the first word that is not one are the tool's own; that word names the command,
   * which gets the rest.
   */
  private static int execute(List<String> args, PrintWriter out, PrintWriter err) {
    int first = 0;
    while (first < args.size() && args.get(first).startsWith("-")) {
      first++;
    }
    String name = first < args.size() ? args.get(first) : null;
    try {
      Syntax.Arguments options = ROOT.parse(args.subList(0, first));
      if (options.helpAsked()) {
        out.print(ROOT.help("peercred", commandList()));
        return Exit.OK;
      }
      if (options.versionAsked()) {
        out.println(Syntax.VERSION);
        return Exit.OK;
      }
      if (name == null) {
        throw new Syntax.UsageException("Missing required subcommand");
      }
      if (name.equals("help")) {
        return help(first + 1 < args.size() ? args.get(first + 1) : null, out);
      }
      Subcommand chosen =
          find(name)
              .orElseThrow(() -> new Syntax.UsageException("Unknown command: '" + name + "'"));
      return execute(chosen, args.subList(first + 1, args.size()), out, err);
    } catch (Syntax.UsageException e) {
      return usageError("peercred", e, err);
    }
  }

  private static int execute(
      Subcommand subcommand, List<String> args, PrintWriter out, PrintWriter err) {
    String qualifiedName = "peercred " + subcommand.name();
    Command command = subcommand.create().get();
    try {
      Syntax.Arguments parsed = command.syntax().parse(args);
      if (parsed.helpAsked()) {
        out.print(command.syntax().help(qualifiedName));
        return Exit.OK;
      }
      if (parsed.versionAsked()) {
        out.println(Syntax.VERSION);
        return Exit.OK;
      }
      return command.run(parsed, out, err);
    } catch (Syntax.UsageException e) {
      return usageError(qualifiedName, e, err);
    } catch (Exception e) {
      err.println(qualifiedName + ": " + describe(e));
      return e instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILURE;
    }
  }

  /** {@code peercred help [COMMAND]}. */
  private static int help(String topic, PrintWriter out) throws Syntax.UsageException {
    if (topic == null) {
      out.print(ROOT.help("peercred", commandList()));
      return Exit.OK;
    }
    Subcommand chosen =
        find(topic)
            .orElseThrow(() -> new Syntax.UsageException("Unknown subcommand '" + topic + "'."));
    out.print(chosen.create().get().syntax().help("peercred " + topic));
    return Exit.OK;
  }

  /** Every command's name and summary; those that need other libraries are not loaded. */
  private static List<String[]> commandList() {
    List<String[]> list = new ArrayList<>();
    for (Subcommand subcommand : SUBCOMMANDS) {
      String summary =
          subcommand.library() != null
              ? subcommand.summary()
              : subcommand.create().get().syntax().summary();
      list.add(new String[] {subcommand.name(), summary});
    }
    list.add(new String[] {"help", HELP_SUMMARY});
    return list;
  }

  private static int usageError(String qualifiedName, Syntax.UsageException e, PrintWriter err) {
    err.println("peercred: " + e.getMessage());
    err.println("Try '" + qualifiedName + " --help'.");
    return EXIT_USAGE;
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
