package dev.peercred.examples;

import dev.peercred.PeerCredentials;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.policy.AuthorizingListener;
import dev.peercred.policy.CommandPolicy;
import dev.peercred.policy.Policy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tiny key-value daemon with tiered rights, the article's "some users may view, others may
 * update": readers may {@code get}, writers may {@code get} and {@code set}, everyone else reads
 * {@code "Unauthorized access\n"} and is disconnected.
 *
 * <p>The protocol is one command per line (UTF-8, at most {@link #MAX_LINE} bytes), one answer per
 * line:
 *
 * <pre>
 * get KEY        -&gt; "ok VALUE" or "not found"
 * set KEY VALUE  -&gt; "ok"   (VALUE is the rest of the line, spaces included)
 * anything else  -&gt; "error: ..."
 * not allowed    -&gt; "denied"  (the connection stays open)
 * </pre>
 *
 * <p>Every connection and every command is audited with the peer's uid, gid, pid and executable
 * ({@link dev.peercred.policy.Audit}: logger {@code dev.peercred.audit} and JFR events). The store
 * holds at most {@link #MAX_ENTRIES} keys. Each connection is served by its own virtual thread.
 */
public final class KvServer implements AutoCloseable {
  /** The longest command line, in bytes, without its newline. */
  public static final int MAX_LINE = 4096;

  /** The most keys the store holds; a {@code set} of a new key beyond it fails. */
  public static final int MAX_ENTRIES = 100_000;

  /** The default socket path. */
  public static final Path DEFAULT_SOCKET = Path.of("/tmp/kv.sock");

  private static final System.Logger LOG = System.getLogger("dev.peercred.kv");

  private final AuthorizingListener listener;
  private final CommandPolicy commands;
  private final Map<String, String> store = new ConcurrentHashMap<>();

  /**
   * Serves on {@code listener}: peers that {@code readers} allow may get, peers that {@code
   * writers} allow may get and set.
   */
  public KvServer(UnixListener listener, Policy readers, Policy writers) {
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(readers, "readers");
    Objects.requireNonNull(writers, "writers");
    Policy anyone = Policy.anyOf(readers, writers);
    this.listener = AuthorizingListener.wrap(listener, anyone, AuthorizingListener.UNAUTHORIZED);
    this.commands = CommandPolicy.builder().command("get", anyone).command("set", writers).build();
  }

  /** Binds {@code socket} (replacing a stale socket file) and serves it. */
  public static KvServer bind(Path socket, Policy readers, Policy writers) throws IOException {
    return new KvServer(UnixListener.bind(socket), readers, writers);
  }

  /**
   * Turns command-line principals into a policy that allows any of them: a number is a uid, {@code
   * user:NAME} a user, {@code group:NAME} or a plain {@code NAME} a group. An empty list allows
   * nobody.
   *
   * @throws IllegalArgumentException naming the first principal that is not valid
   */
  public static Policy principals(List<String> specs) {
    List<Policy> policies = new ArrayList<>();
    for (String spec : specs) {
      String s = spec.strip();
      try {
        if (!s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9')) {
          policies.add(Policy.uid(Long.parseLong(s)));
        } else if (s.startsWith("user:")) {
          policies.add(Policy.user(s.substring(5)));
        } else if (s.startsWith("group:")) {
          policies.add(Policy.group(s.substring(6)));
        } else {
          policies.add(Policy.group(s));
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "not a uid, user:NAME or group name: '" + spec + "' (" + e.getMessage() + ")", e);
      }
    }
    return Policy.anyOf(policies.toArray(Policy[]::new));
  }

  /** The authorizing listener this server accepts on. */
  public AuthorizingListener listener() {
    return listener;
  }

  /** Accepts and serves connections until the listener is closed. */
  public void run() {
    listener.serve(this::serve);
  }

  /**
   * Serves one allowed connection until it ends.
   *
   * @param connection the accepted connection; the caller closes it
   * @throws IOException if the client goes away or the connection fails
   */
  public void serve(UnixConnection connection) throws IOException {
    InputStream in = new java.io.BufferedInputStream(connection.inputStream(), 8192);
    while (true) {
      String line;
      try {
        line = readLine(in);
      } catch (LineTooLongException e) {
        connection.refuse("error: line longer than " + MAX_LINE + " bytes\n");
        return;
      }
      if (line == null) {
        return;
      }
      byte[] answer = bytes(execute(connection, line));
      connection.writeFully(answer, 0, answer.length);
    }
  }

  private static byte[] bytes(String answer) {
    return (answer + "\n").getBytes(StandardCharsets.UTF_8);
  }

  private String execute(UnixConnection connection, String line) {
    String[] words = line.split(" ", 3);
    String command = words[0];
    if (!command.equals("get") && !command.equals("set")) {
      return "error: unknown command (get KEY, set KEY VALUE)";
    }
    if (!commands.authorize(connection, command).allowed()) {
      return "denied";
    }
    if (command.equals("get")) {
      if (words.length != 2 || words[1].isEmpty()) {
        return "error: usage: get KEY";
      }
      String value = store.get(words[1]);
      return value == null ? "not found" : "ok " + value;
    }
    if (words.length != 3 || words[1].isEmpty()) {
      return "error: usage: set KEY VALUE";
    }
    if (store.size() >= MAX_ENTRIES && !store.containsKey(words[1])) {
      return "error: store full (" + MAX_ENTRIES + " keys)";
    }
    store.put(words[1], words[2]);
    return "ok";
  }

  /** A command line longer than {@link #MAX_LINE} bytes. */
  private static final class LineTooLongException extends IOException {
    private static final long serialVersionUID = 1L;
  }

  /**
   * Reads one line without its newline (and a carriage return before it); null at end of stream.
   */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b < 0) {
        return null; // a last line without newline is dropped
      }
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        int length =
            bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
      }
      if (line.size() == MAX_LINE) {
        throw new LineTooLongException();
      }
      line.write(b);
    }
  }

  /** Stops accepting and removes the socket file; connections being served run to their end. */
  @Override
  public void close() {
    listener.close();
  }

  /**
   * Runs the server: {@code KvServer SOCKET READERS WRITERS}, each a comma-separated list of
   * principals (see {@link #principals(List)}); without them, only this process's user may read and
   * write.
   */
  public static void main(String[] args) throws IOException {
    Path socket = args.length > 0 ? Path.of(args[0]) : DEFAULT_SOCKET;
    Policy readers = args.length > 1 ? principals(List.of(args[1].split(","))) : Policy.anyOf();
    Policy writers =
        args.length > 2
            ? principals(List.of(args[2].split(",")))
            : Policy.uid(PeerCredentials.ofCurrentProcess().uid());
    KvServer server = bind(socket, readers, writers);
    Runtime.getRuntime().addShutdownHook(new Thread(server::close));
    server.run();
  }
}
