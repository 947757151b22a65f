package dev.peercred.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What a command accepts, declared as data: its name, description, options and parameters, exit
 * codes and footer; it parses a command line into {@link Arguments} and writes the command's help.
 *
 * <p>The tool's own parser, used by every command: declaring arguments as constants costs nothing
 * at start, where an annotation-driven parser creates a proxy class per annotation (classes that
 * the JVM's ahead-of-time cache cannot hold) and reads fields by reflection, which took longer than
 * the whole of {@code whoami}'s work. It reads {@code --name value} and {@code --name=value},
 * {@code --} before parameters that start with a dash, and {@code -h}/{@code --help} and {@code
 * -V}/{@code --version} in every command.
 */
final class Syntax {
  /** The version that {@code --version} prints. */
  static final String VERSION = "peercred 0.1.0";

  /** Help lines are wrapped to at most this many characters. */
  private static final int WIDTH = 79;

  /** Option names longer than this in the help put their description on the next line. */
  private static final int LONGEST_NAME_COLUMN = 20;

  private static final Arg<Boolean> HELP = flag("--help", "Show this help message and exit.");
  private static final Arg<Boolean> VERSION_FLAG =
      flag("--version", "Print version information and exit.");

  /** Reads an argument's text; throws {@link IllegalArgumentException} saying why it cannot. */
  interface Converter<T> {
    T convert(String text);
  }

  /** A bad command line: the message names the option or value; the exit code is EX_USAGE. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  /**
   * An option ({@code --name}) or, without a name, a positional parameter. Declared once, as a
   * constant of its command; {@link Arguments#value} and {@link Arguments#values} read it.
   */
  static final class Arg<T> {
    final String name;
    final String label;
    final String description;
    final Converter<T> converter;
    String defaultText;
    boolean required;
    boolean repeatable;
    String split;

    private Arg(String name, String label, String description, Converter<T> converter) {
      this.name = name;
      this.label = label;
      this.description = description;
      this.converter = converter;
      this.required = name == null; // parameters are required unless they have a default
    }

    /** The value when the argument is not given, as the user would write it. */
    Arg<T> byDefault(String text) {
      defaultText = text;
      required = false;
      return this;
    }

    Arg<T> required() {
      required = true;
      return this;
    }

    /** An option that may be given more than once, or a parameter that takes all the rest. */
    Arg<T> repeatable() {
      repeatable = true;
      return this;
    }

    /** A repeatable option whose every value is also split at {@code separator}. */
    Arg<T> split(String separator) {
      split = separator;
      return repeatable();
    }

    boolean isFlag() {
      return label == null;
    }

    /** How the synopsis and the option list show it: {@code --timeout=DURATION}, {@code SOCKET}. */
    String shown() {
      String value = name == null ? label : isFlag() ? name : name + "=" + label;
      if (split != null) {
        value += "[" + split + label + "...]";
      }
      return value;
    }

    T convert(String text) throws UsageException {
      try {
        return converter.convert(text);
      } catch (IllegalArgumentException e) {
        throw new UsageException(
            "Invalid value for "
                + (name == null ? "parameter " + label : "option '" + name + "'")
                + ": "
                + Main.describe(e));
      }
    }
  }

  static Arg<Boolean> flag(String name, String description) {
    return new Arg<>(name, null, description, text -> true);
  }

  static <T> Arg<T> option(String name, String label, Converter<T> converter, String description) {
    return new Arg<>(name, label, description, converter);
  }

  static <T> Arg<T> parameter(String label, Converter<T> converter, String description) {
    return new Arg<>(null, label, description, converter);
  }

  /** The optional SOCKET parameter of a server or client, a path with a default. */
  static Arg<String> socketParameter(String byDefault) {
    return parameter("SOCKET", Syntax::text, "socket path (default: {default})")
        .byDefault(byDefault);
  }

  /** Takes the text as it is. */
  static String text(String text) {
    return text;
  }

  /** Reads a file name. */
  static Path path(String text) {
    try {
      return Path.of(text);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("'" + text + "' is not a file name: " + e.getReason());
    }
  }

  /** Reads a whole number. */
  static long number(String text) {
    try {
      return Long.parseLong(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a whole number");
    }
  }

  final String name;
  private final List<String> description;
  private final List<Arg<?>> args = new ArrayList<>();
  private final List<String> exitCodes = new ArrayList<>();
  private final List<String> footer = new ArrayList<>();

  private Syntax(String name, List<String> description) {
    this.name = name;
    this.description = description;
  }

  /**
   * A command; each paragraph of its description is wrapped in the help, the first is a summary.
   */
  static Syntax command(String name, String... paragraphs) {
    return new Syntax(name, List.of(paragraphs));
  }

  /** Its options and parameters, in the order the help lists them. */
  Syntax args(Arg<?>... declared) {
    args.addAll(List.of(declared));
    return this;
  }

  /** Exit codes for the help, each {@code "CODE:meaning"}. */
  Syntax exitCodes(String... codes) {
    exitCodes.addAll(List.of(codes));
    return this;
  }

  /** Lines after everything else in the help, as they are (each at most 80 characters). */
  Syntax footer(String... lines) {
    footer.addAll(List.of(lines));
    return this;
  }

  String summary() {
    return description.isEmpty() ? "" : description.get(0);
  }

  /** The values of a parsed command line. */
  static final class Arguments {
    private final Map<Arg<?>, List<Object>> given = new HashMap<>();

    boolean flag(Arg<Boolean> flag) {
      return given.containsKey(flag);
    }

    /** The last value given, else the default, else null. */
    <T> T value(Arg<T> arg) {
      List<T> values = values(arg);
      return values.isEmpty() ? null : values.get(values.size() - 1);
    }

    /** Every value given, in order, else the default (if any). */
    @SuppressWarnings("unchecked")
    <T> List<T> values(Arg<T> arg) {
      List<Object> values = given.get(arg);
      if (values == null) {
        return arg.defaultText == null ? List.of() : List.of(convertDefault(arg));
      }
      return (List<T>) List.copyOf(values);
    }

    private static <T> T convertDefault(Arg<T> arg) {
      return arg.converter.convert(arg.defaultText);
    }

    /** {@code -h} or {@code --help} was given: the command is not run, nothing else checked. */
    boolean helpAsked() {
      return flag(HELP);
    }

    /** {@code -V} or {@code --version} was given: the command is not run. */
    boolean versionAsked() {
      return flag(VERSION_FLAG);
    }
  }

  /** Reads a command line (what follows the command's name). */
  Arguments parse(List<String> line) throws UsageException {
    Arguments parsed = new Arguments();
    List<Arg<?>> parameters = args.stream().filter(a -> a.name == null).toList();
    int next = 0; // the next parameter to fill
    boolean options = true;
    for (int i = 0; i < line.size(); i++) {
      String word = line.get(i);
      if (options && word.equals("--")) {
        options = false;
      } else if (options && word.matches("-[hV]{2,}")) { // -hV
        for (char letter : word.substring(1).toCharArray()) {
          parsed.given.put(letter == 'h' ? HELP : VERSION_FLAG, List.of(true));
        }
      } else if (options && word.startsWith("-") && word.length() > 1) {
        int equals = word.indexOf('=');
        String optionName = equals < 0 ? word : word.substring(0, equals);
        Arg<?> option = option(optionName);
        if (option == null) {
          throw new UsageException("Unknown option: '" + optionName + "'");
        }
        if (option.isFlag()) {
          if (equals >= 0) {
            throw new UsageException("Option '" + option.name + "' takes no value: '" + word + "'");
          }
          parsed.given.put(option, List.of(true));
          continue;
        }
        String text;
        if (equals >= 0) {
          text = word.substring(equals + 1);
        } else if (i + 1 < line.size()) {
          text = line.get(++i);
        } else {
          throw new UsageException(
              "Missing required parameter for option '" + option.name + "' (" + option.label + ")");
        }
        if (parsed.given.containsKey(option) && !option.repeatable) {
          throw new UsageException(
              "Option '" + option.name + "' (" + option.label + ") should be given only once");
        }
        add(parsed, option, text);
      } else {
        while (next < parameters.size() && parsed.given.containsKey(parameters.get(next))) {
          if (parameters.get(next).repeatable) {
            break;
          }
          next++;
        }
        if (next >= parameters.size()) {
          throw new UsageException("Unmatched argument: '" + word + "'");
        }
        add(parsed, parameters.get(next), word);
      }
    }
    if (parsed.helpAsked() || parsed.versionAsked()) {
      return parsed; // nothing else is checked
    }
    List<String> missingOptions = new ArrayList<>();
    for (Arg<?> arg : args) {
      if (arg.required && !parsed.given.containsKey(arg)) {
        if (arg.name == null) {
          throw new UsageException("Missing required parameter: '" + arg.label + "'");
        }
        missingOptions.add("'" + arg.shown() + "'");
      }
    }
    if (!missingOptions.isEmpty()) {
      throw new UsageException(
          "Missing required option"
              + (missingOptions.size() == 1 ? ": " : "s: ")
              + String.join(", ", missingOptions));
    }
    return parsed;
  }

  private static void add(Arguments parsed, Arg<?> arg, String text) throws UsageException {
    List<Object> values = parsed.given.computeIfAbsent(arg, a -> new ArrayList<>());
    for (String part :
        arg.split == null
            ? new String[] {text}
            : text.split(java.util.regex.Pattern.quote(arg.split), -1)) {
      values.add(arg.convert(part));
    }
  }

  private Arg<?> option(String optionName) {
    switch (optionName) {
      case "-h", "--help" -> {
        return HELP;
      }
      case "-V", "--version" -> {
        return VERSION_FLAG;
      }
      default -> {
        return args.stream().filter(a -> optionName.equals(a.name)).findFirst().orElse(null);
      }
    }
  }

  /** The help of the command {@code qualifiedName} ({@code peercred whoami}). */
  String help(String qualifiedName) {
    return help(qualifiedName, List.of());
  }

  /**
   * The help, with {@code commands} (each {@code {name, summary}}) listed after the options, and
   * {@code [COMMAND]} in the synopsis if there are any.
   */
  String help(String qualifiedName, List<String[]> commands) {
    StringBuilder out = new StringBuilder();
    List<String> synopsis = new ArrayList<>(List.of("[-hV]"));
    for (Arg<?> arg : args) {
      if (arg.name != null) {
        synopsis.add(synopsisItem(arg));
      }
    }
    for (Arg<?> arg : args) {
      if (arg.name == null) {
        synopsis.add(synopsisItem(arg));
      }
    }
    if (!commands.isEmpty()) {
      synopsis.add("[COMMAND]");
    }
    String start = "Usage: " + qualifiedName + " ";
    wrapWords(out, start, " ".repeat(start.length()), synopsis);
    for (String paragraph : description) {
      wrapWords(out, "", "", List.of(paragraph.split(" ")));
    }

    List<String[]> rows = new ArrayList<>();
    for (Arg<?> arg : args) {
      String shown = arg.name == null ? synopsisItem(arg) : arg.shown();
      rows.add(new String[] {"      " + shown, describe(arg)});
    }
    rows.add(new String[] {"  -h, " + HELP.name, HELP.description});
    rows.add(new String[] {"  -V, " + VERSION_FLAG.name, VERSION_FLAG.description});
    table(out, rows, 6 + LONGEST_NAME_COLUMN, 3);
    if (!commands.isEmpty()) {
      out.append("Commands:\n");
      List<String[]> listed = new ArrayList<>();
      for (String[] command : commands) {
        listed.add(new String[] {"  " + command[0], command[1]});
      }
      table(out, listed, Integer.MAX_VALUE, 2);
    }
    if (!exitCodes.isEmpty()) {
      out.append("\nExit status:\n");
      List<String[]> codes = new ArrayList<>();
      for (String code : exitCodes) {
        int colon = code.indexOf(':');
        codes.add(new String[] {"  " + code.substring(0, colon), code.substring(colon + 1)});
      }
      table(out, codes, Integer.MAX_VALUE, 3);
    }
    for (String line : footer) {
      out.append(line).append('\n');
    }
    return out.toString();
  }

  /**
   * {@code [--grace=DURATION]}, {@code --to=PATH}, {@code [--allow-uid=UID]...}, {@code AUDIT...}.
   */
  private static String synopsisItem(Arg<?> arg) {
    String many = arg.repeatable ? "..." : "";
    if (arg.name == null) {
      return arg.required ? arg.label + many : "[" + arg.label + many + "]";
    }
    return arg.required ? arg.shown() + many : "[" + arg.shown() + "]" + many;
  }

  private static String describe(Arg<?> arg) {
    return arg.defaultText == null
        ? arg.description
        : arg.description.replace("{default}", arg.defaultText);
  }

  /**
   * Two columns: the first padded to the widest entry no longer than {@code widest} plus {@code
   * gap}; a longer one puts its description on the next line. Descriptions are wrapped, their
   * continuation lines indented by two more.
   */
  private static void table(StringBuilder out, List<String[]> rows, int widest, int gap) {
    int column = 0;
    for (String[] row : rows) {
      if (row[0].length() <= widest) {
        column = Math.max(column, row[0].length());
      }
    }
    column += gap;
    for (String[] row : rows) {
      String first = row[0];
      if (first.length() + gap > column) {
        out.append(first).append('\n');
        first = "";
      }
      String pad = " ".repeat(column - first.length());
      wrapWords(out, first + pad, " ".repeat(column + 2), List.of(row[1].split(" ")));
    }
  }

  /** Words after {@code first}, then on lines starting with {@code indent}, at most 80 wide. */
  private static void wrapWords(
      StringBuilder out, String first, String indent, List<String> words) {
    StringBuilder line = new StringBuilder(first);
    int empty = first.length();
    for (String word : words) {
      if (line.length() > empty && line.length() + 1 + word.length() > WIDTH) {
        out.append(line).append('\n');
        line.setLength(0);
        line.append(indent);
        empty = indent.length();
      }
      if (line.length() > empty) {
        line.append(' ');
      }
      line.append(word);
    }
    out.append(line).append('\n');
  }
}
