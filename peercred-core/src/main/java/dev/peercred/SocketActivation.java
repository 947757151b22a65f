package dev.peercred;

import dev.peercred.SocketActivationException.Reason;
import dev.peercred.internal.linux.Errno;
import dev.peercred.internal.linux.LibC;
import dev.peercred.internal.linux.Lifecycle;
import dev.peercred.internal.linux.NativeSocket;
import dev.peercred.internal.linux.Platform;
import java.io.IOException;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Listening sockets passed in by a service manager: systemd socket activation ({@code
 * sd_listen_fds(3)}), {@code systemd-socket-activate}, or any launcher that follows the same
 * protocol. Descriptors start at 3; {@code LISTEN_FDS} says how many, {@code LISTEN_PID} which
 * process they are meant for, and the optional {@code LISTEN_FDNAMES} names them ({@code
 * FileDescriptorName=} in a {@code .socket} unit), colon-separated.
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = activation}
 *
 * <p><b>What is checked.</b> At the first call of any method, the variables are read from the
 * environment this JVM started with and parsed strictly: {@code LISTEN_PID} must be this process's
 * pid (a different pid means the variables leaked from a parent, and the descriptors are not ours),
 * numbers are plain decimal digits, and {@code LISTEN_FDNAMES}, when present, has exactly {@code
 * LISTEN_FDS} non-empty names. Each of our descriptors is then made close-on-exec at once. Before a
 * descriptor becomes a {@link UnixListener}, it must be an {@code AF_UNIX} ({@code SO_DOMAIN})
 * {@code SOCK_STREAM} ({@code SO_TYPE}) socket that is listening ({@code SO_ACCEPTCONN}); it is
 * then made non-blocking. Every failure is a {@link SocketActivationException} with a {@link
 * Reason}. Each descriptor can be taken once; its listener never removes the socket file on close
 * (the service manager owns it).
 *
 * <p><b>Child processes.</b> At that first call the three variables are also removed from the C
 * library's environment ({@code unsetenv(3)}), which native code and child processes see when they
 * are started with {@link ProcessBuilder} <em>without touching its {@link
 * ProcessBuilder#environment() environment()}</em>. The JVM itself keeps the snapshot it took at
 * start-up: {@link System#getenv()} and every {@code ProcessBuilder.environment()} map still hold
 * the variables. Remove them from such a map with {@link #removeVariables(ProcessBuilder)} before
 * starting the process. (The descriptors themselves never reach a child: they are close-on-exec,
 * and {@code ProcessBuilder} closes all descriptors above 2 anyway.)
 *
 * <p>Thread safe. {@code unsetenv(3)} is not safe against native code reading the environment at
 * the same instant; the first call is best made early, before other threads start native work.
 */
public final class SocketActivation {
  private SocketActivation() {}

  /** The first inherited descriptor ({@code SD_LISTEN_FDS_START}). */
  public static final int FIRST_DESCRIPTOR = 3;

  /** The name {@code sd_listen_fds_with_names(3)} reports when {@code LISTEN_FDNAMES} is absent. */
  public static final String UNKNOWN_NAME = "unknown";

  /** The variables of the protocol, removed from what child processes inherit. */
  public static final List<String> VARIABLES =
      List.of("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES");

  private static final int MAX_DESCRIPTORS = 65_536;

  private static boolean initialized;
  private static boolean inherited;
  private static List<String> names = List.of();
  private static boolean[] claimed = new boolean[0];
  private static SocketActivationException environmentError;

  /**
   * True when this JVM was started with socket-activation variables ({@code LISTEN_PID} or {@code
   * LISTEN_FDS}), valid or not; the other methods then say what was passed, or what is wrong.
   */
  public static synchronized boolean isInherited() {
    initialize();
    return inherited;
  }

  /**
   * The names of the passed sockets, in descriptor order ({@link #UNKNOWN_NAME} for each when
   * {@code LISTEN_FDNAMES} is absent); empty when no sockets were passed.
   *
   * @throws SocketActivationException if the variables are wrong
   */
  public static synchronized List<String> names() throws SocketActivationException {
    initialize();
    checkEnvironment();
    return names;
  }

  /**
   * Takes all passed sockets as listeners, in descriptor order; an empty list when no sockets were
   * passed. Every descriptor is checked before any is taken.
   *
   * @throws SocketActivationException if the variables are wrong, a descriptor is not a listening
   *     {@code AF_UNIX} stream socket, or one was already taken
   */
  public static synchronized List<UnixListener> listeners() throws IOException {
    initialize();
    checkEnvironment();
    for (int i = 0; i < names.size(); i++) {
      if (claimed[i]) {
        throw alreadyClaimed(i);
      }
      check(i);
    }
    List<UnixListener> listeners = new ArrayList<>(names.size());
    for (int i = 0; i < names.size(); i++) {
      listeners.add(take(i));
    }
    return Collections.unmodifiableList(listeners);
  }

  /**
   * Takes the socket at {@code index} (descriptor {@code 3 + index}) as a listener.
   *
   * @throws SocketActivationException if the variables are wrong, nothing was passed at that index
   *     ({@link Reason#NOT_FOUND}), the descriptor is not a listening {@code AF_UNIX} stream
   *     socket, or it was already taken
   * @throws IllegalArgumentException if {@code index} is negative
   */
  public static synchronized UnixListener listener(int index) throws IOException {
    if (index < 0) {
      throw new IllegalArgumentException("index is negative: " + index);
    }
    initialize();
    checkEnvironment();
    if (index >= names.size()) {
      throw new SocketActivationException(
          Reason.NOT_FOUND,
          names.isEmpty()
              ? "no sockets were passed to this process (LISTEN_FDS is not set)"
              : "no socket at index " + index + ": LISTEN_FDS=" + names.size());
    }
    if (claimed[index]) {
      throw alreadyClaimed(index);
    }
    check(index);
    return take(index);
  }

  /**
   * Takes the one socket named {@code name} in {@code LISTEN_FDNAMES} as a listener.
   *
   * @throws SocketActivationException if the variables are wrong, no socket or several carry that
   *     name, the descriptor is not a listening {@code AF_UNIX} stream socket, or it was already
   *     taken
   * @throws IllegalArgumentException if {@code name} is empty
   */
  public static synchronized UnixListener listener(String name) throws IOException {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("socket name is empty");
    }
    initialize();
    checkEnvironment();
    int found = -1;
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).equals(name)) {
        if (found >= 0) {
          throw new SocketActivationException(
              Reason.AMBIGUOUS_NAME,
              "several passed sockets are named '"
                  + name
                  + "' (LISTEN_FDNAMES="
                  + String.join(":", names)
                  + "); take them by index");
        }
        found = i;
      }
    }
    if (found < 0) {
      throw new SocketActivationException(
          Reason.NOT_FOUND,
          names.isEmpty()
              ? "no sockets were passed to this process (LISTEN_FDS is not set)"
              : "no passed socket is named '"
                  + name
                  + "' (LISTEN_FDNAMES="
                  + String.join(":", names)
                  + ")");
    }
    return listener(found);
  }

  /**
   * Removes the socket-activation variables from {@code builder}'s environment, so that the process
   * it starts does not believe the sockets are meant for it.
   *
   * @return {@code builder}
   */
  public static ProcessBuilder removeVariables(ProcessBuilder builder) {
    Objects.requireNonNull(builder, "builder");
    builder.environment().keySet().removeAll(VARIABLES);
    return builder;
  }

  private static void initialize() {
    if (initialized) {
      return;
    }
    initialized = true;
    Map<String, String> environment = System.getenv();
    inherited = environment.containsKey("LISTEN_PID") || environment.containsKey("LISTEN_FDS");
    if (!inherited && !environment.containsKey("LISTEN_FDNAMES")) {
      return;
    }
    Platform.ensureSupported();
    try {
      names = parse(environment, ProcessHandle.current().pid());
      claimed = new boolean[names.size()];
      for (int i = 0; i < names.size(); i++) {
        Lifecycle.setCloseOnExec(
            FIRST_DESCRIPTOR + i, true); // a bad descriptor is reported when taken
      }
    } catch (SocketActivationException e) {
      environmentError = e;
    }
    for (String variable : VARIABLES) {
      Lifecycle.unsetenv(variable);
    }
  }

  private static void checkEnvironment() throws SocketActivationException {
    if (environmentError != null) {
      throw new SocketActivationException(environmentError.reason(), environmentError.getMessage());
    }
  }

  /**
   * Parses the variables for process {@code pid}: the names of the passed sockets, or an empty list
   * when none were passed.
   */
  static List<String> parse(Map<String, String> environment, long pid)
      throws SocketActivationException {
    String pidText = environment.get("LISTEN_PID");
    String countText = environment.get("LISTEN_FDS");
    String namesText = environment.get("LISTEN_FDNAMES");
    if (pidText == null && countText == null && namesText == null) {
      return List.of();
    }
    if (pidText == null) {
      throw malformed("LISTEN_FDS or LISTEN_FDNAMES is set but LISTEN_PID is not");
    }
    long listenPid = number("LISTEN_PID", pidText, Integer.MAX_VALUE);
    if (listenPid == 0) {
      throw malformed("LISTEN_PID is 0, which is no process");
    }
    if (listenPid != pid) {
      throw new SocketActivationException(
          Reason.WRONG_PID,
          "LISTEN_PID="
              + listenPid
              + " but this process is "
              + pid
              + ": the sockets were passed to another process (the variables leaked to a child?)");
    }
    if (countText == null) {
      throw malformed("LISTEN_PID is set but LISTEN_FDS is not");
    }
    int count = (int) number("LISTEN_FDS", countText, MAX_DESCRIPTORS);
    if (namesText == null) {
      return Collections.nCopies(count, UNKNOWN_NAME);
    }
    if (count == 0) {
      if (!namesText.isEmpty()) {
        throw malformed("LISTEN_FDS=0 but LISTEN_FDNAMES='" + namesText + "' names sockets");
      }
      return List.of();
    }
    String[] split = namesText.split(":", -1);
    if (split.length != count) {
      throw malformed(
          "LISTEN_FDNAMES has "
              + split.length
              + " names ('"
              + namesText
              + "') but LISTEN_FDS="
              + count);
    }
    for (int i = 0; i < split.length; i++) {
      String name = split[i];
      if (name.isEmpty()
          || name.length() > 255
          || name.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
        throw malformed(
            "LISTEN_FDNAMES name "
                + i
                + " is empty, longer than 255 characters or holds control characters: '"
                + name
                + "'");
      }
    }
    return List.of(split);
  }

  private static long number(String variable, String text, long max)
      throws SocketActivationException {
    if (text.isEmpty() || text.length() > 10 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw malformed(variable + "='" + text + "' is not a plain decimal number");
    }
    long value = Long.parseLong(text);
    if (value > max) {
      throw malformed(variable + "=" + value + " is larger than " + max);
    }
    return value;
  }

  private static SocketActivationException malformed(String message) {
    return new SocketActivationException(Reason.MALFORMED_ENVIRONMENT, message);
  }

  private static SocketActivationException alreadyClaimed(int index) {
    return new SocketActivationException(
        Reason.ALREADY_CLAIMED, describe(index) + " was already taken as a listener");
  }

  private static String describe(int index) {
    String name = names.get(index);
    return "descriptor "
        + (FIRST_DESCRIPTOR + index)
        + (name.equals(UNKNOWN_NAME) ? "" : " ('" + name + "')");
  }

  /** Checks that the descriptor at {@code index} is a listening AF_UNIX stream socket. */
  private static void check(int index) throws SocketActivationException {
    int fd = FIRST_DESCRIPTOR + index;
    if (LibC.getDescriptorFlags(fd) < 0) {
      throw new SocketActivationException(Reason.NOT_A_SOCKET, describe(index) + " is not open");
    }
    int[] value = new int[1];
    int rc = Lifecycle.intOption(fd, LibC.SO_DOMAIN, value);
    if (rc == -Errno.ENOTSOCK) {
      throw new SocketActivationException(
          Reason.NOT_A_SOCKET, describe(index) + " is not a socket (a file, pipe or device)");
    }
    if (rc < 0) {
      throw optionUnreadable(index, "SO_DOMAIN", -rc);
    }
    int domain = value[0];
    rc = Lifecycle.intOption(fd, LibC.SO_TYPE, value);
    if (rc < 0) {
      throw optionUnreadable(index, "SO_TYPE", -rc);
    }
    int type = value[0];
    if (domain != LibC.AF_UNIX || type != LibC.SOCK_STREAM) {
      throw new SocketActivationException(
          Reason.WRONG_SOCKET_TYPE,
          describe(index)
              + " is "
              + familyName(domain)
              + " "
              + typeName(type)
              + kind(domain, type)
              + "; a listening AF_UNIX SOCK_STREAM socket is needed");
    }
    rc = Lifecycle.intOption(fd, LibC.SO_ACCEPTCONN, value);
    if (rc < 0) {
      throw optionUnreadable(index, "SO_ACCEPTCONN", -rc);
    }
    if (value[0] == 0) {
      throw new SocketActivationException(
          Reason.NOT_LISTENING,
          describe(index)
              + " is an AF_UNIX SOCK_STREAM socket that is not listening (no listen(2))");
    }
  }

  /** A socket option of the descriptor at {@code index} could not be read. */
  private static SocketActivationException optionUnreadable(int index, String option, int errno) {
    SocketException cause =
        Errno.socketException(
            "getsockopt(" + option + ")", errno, "fd=" + (FIRST_DESCRIPTOR + index));
    var e =
        new SocketActivationException(
            Reason.NOT_A_SOCKET, describe(index) + ": " + cause.getMessage());
    e.initCause(cause);
    return e;
  }

  private static UnixListener take(int index) throws IOException {
    int fd = FIRST_DESCRIPTOR + index;
    int rc = Lifecycle.setCloseOnExec(fd, true);
    if (rc == 0) {
      rc = Lifecycle.setNonBlocking(fd, true);
    }
    if (rc < 0) {
      throw Errno.socketException("fcntl", -rc, describe(index));
    }
    claimed[index] = true;
    return UnixListener.adopt(NativeSocket.adopt(fd));
  }

  private static String familyName(int domain) {
    return switch (domain) {
      case 1 -> "an AF_UNIX";
      case 2 -> "an AF_INET";
      case 10 -> "an AF_INET6";
      case 16 -> "an AF_NETLINK";
      case 40 -> "an AF_VSOCK";
      default -> "a family " + domain;
    };
  }

  private static String typeName(int type) {
    return switch (type) {
      case 1 -> "SOCK_STREAM socket";
      case 2 -> "SOCK_DGRAM socket";
      case 3 -> "SOCK_RAW socket";
      case 5 -> "SOCK_SEQPACKET socket";
      default -> "type " + type + " socket";
    };
  }

  private static String kind(int domain, int type) {
    if (domain == 2 || domain == 10) {
      return type == 1 ? " (TCP)" : type == 2 ? " (UDP)" : "";
    }
    return "";
  }
}
