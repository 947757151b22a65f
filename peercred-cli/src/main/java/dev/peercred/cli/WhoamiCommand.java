package dev.peercred.cli;

import dev.peercred.ConnectionPair;
import dev.peercred.PeerIdentity;
import dev.peercred.SystemCallError;
import dev.peercred.UnixConnection;
import dev.peercred.UnixSocketAddress;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** {@code peercred whoami SOCKET}: who serves a socket, and who the server thinks we are. */
final class WhoamiCommand implements Command {
  /** How long to wait for the probe's answer with {@code --timeout 0}. */
  private static final Duration DEFAULT_PROBE_TIMEOUT = Duration.ofSeconds(2);

  private static final Syntax.Arg<String> SOCKET =
      Syntax.parameter("SOCKET", Syntax::text, "socket path, or @name");

  private static final Syntax.Arg<Boolean> JSON =
      Syntax.flag("--json", "print one JSON object instead of text");

  private static final Syntax.Arg<Boolean> NO_PROBE =
      Syntax.flag("--no-probe", "only read the server's identity; send nothing");

  private static final Syntax.Arg<Duration> TIMEOUT =
      Syntax.option(
              "--timeout",
              "DURATION",
              DurationConverter::convert,
              "how long to wait to connect and for the probe's answer (default: {default})")
          .byDefault("2s");

  private static final Syntax SYNTAX =
      Syntax.command(
              "whoami",
              "Connect to a Unix socket and print what the kernel says about the server process on"
                  + " the other end: pid, uid and user, gid and group, supplementary groups,"
                  + " executable and security label (as of when it called listen(2)).",
              "Then send the whoami probe (a NUL byte and 'PEERCRED WHOAMI/1'); a peercred server"
                  + " such as 'peercred proxy' answers with how it sees this client and whether its"
                  + " policy allows it. Other servers receive those 19 bytes as a request of their"
                  + " own: use --no-probe where that matters.")
          .args(SOCKET, JSON, NO_PROBE, TIMEOUT)
          .exitCodes(
              "0:connected, and the server answered the probe or does not offer it",
              "1:any other failure",
              "64:bad option or argument (EX_USAGE)",
              "69:nothing answers at the socket (EX_UNAVAILABLE)",
              "76:the server began an answer to the probe that is not a valid whoami reply; its"
                  + " kernel identity is printed all the same (EX_PROTOCOL)",
              "77:permission denied on the socket (EX_NOPERM)");

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err)
      throws Syntax.UsageException {
    UnixSocketAddress address;
    try {
      address = UnixSocketAddress.parse(args.value(SOCKET));
    } catch (IllegalArgumentException e) {
      throw new Syntax.UsageException("invalid SOCKET: " + e.getMessage());
    }
    boolean json = args.flag(JSON);
    boolean noProbe = args.flag(NO_PROBE);
    Duration timeout = args.value(TIMEOUT);
    if (!noProbe) {
      prepareProbe();
    }
    try (UnixConnection connection = UnixConnection.connect(address, timeout)) {
      if (!noProbe) {
        sendProbe(connection); // at once: a proxy gives a client it refuses little time
      }
      PeerIdentity server = connection.peerIdentity();
      Map<String, Object> serverFacts = IdentityFacts.describe(server, Json.object(), true);
      Map<String, Object> seen = null;
      String probeResult = "not sent (--no-probe)";
      String probeError = null;
      if (!noProbe) {
        try {
          seen =
              WhoamiReply.read(connection, timeout.isZero() ? DEFAULT_PROBE_TIMEOUT : timeout)
                  .orElse(null);
          probeResult = seen == null ? "not offered by this server" : null;
        } catch (WhoamiReply.InvalidReplyException e) {
          probeError = e.getMessage();
          probeResult = "invalid reply (see standard error)";
        }
      }
      if (json) {
        Map<String, Object> result = Json.object();
        result.put("socket", address.toString());
        result.put("server", serverFacts);
        result.put("seen_by_server", seen);
        if (probeError != null) {
          result.put("probe_error", probeError);
        }
        out.println(Json.write(result));
      } else {
        out.println("socket  " + Text.printable(address.toString()));
        printFacts(out, "", serverFacts);
        if (seen == null) {
          out.println("how the server sees us: " + probeResult);
        } else {
          out.println(
              "how the server sees us (" + printable(seen.getOrDefault("server", "?")) + "):");
          printFacts(out, "  ", seen);
          out.println("  decision " + orDash(seen.get("decision")));
        }
      }
      out.flush();
      if (probeError != null) {
        err.println("peercred whoami: " + Text.printable(address.toString()) + ": " + probeError);
        return Exit.PROTOCOL;
      }
      return Exit.OK;
    } catch (ConnectException e) {
      String message = Main.describe(e);
      err.println("peercred whoami: cannot connect to " + address + ": " + message);
      boolean denied = SystemCallError.of(e).map(f -> f.errnoName().equals("EACCES")).orElse(false);
      return denied ? Exit.NO_PERMISSION : Exit.UNAVAILABLE;
    } catch (SocketTimeoutException e) {
      err.println(
          "peercred whoami: " + address + " does not accept connections: " + e.getMessage());
      return Exit.UNAVAILABLE;
    } catch (IOException e) {
      err.println("peercred whoami: " + address + ": " + Main.describe(e));
      return Exit.FAILURE;
    }
  }

  /**
   * Runs once, on a socket pair, the code between {@code connect(2)} and the probe's {@code
   * send(2)} (reading {@code SO_PEERCRED}, writing to a socket), so that in the real connection the
   * probe follows the connect at once. The first run of that code in a fresh JVM (linking the
   * native calls) takes tens of milliseconds, far more on a loaded machine, and {@code peercred
   * proxy} gives a client it refuses only 500 ms to send the probe.
   */
  private static void prepareProbe() {
    try (ConnectionPair pair = UnixConnection.pair()) {
      pair.first().outputStream().write(WhoamiProtocol.PROBE);
    } catch (IOException | RuntimeException e) {
      // Only a warm-up: the real connection reports its own errors.
    }
  }

  /** Sends the probe; a server that already closed finds nothing to answer, which reads as such. */
  private static void sendProbe(UnixConnection connection) {
    try {
      connection.outputStream().write(WhoamiProtocol.PROBE);
    } catch (IOException e) {
      // The server closed already; reading its answer finds nothing.
    }
  }

  private static void printFacts(PrintWriter out, String indent, Map<String, Object> facts) {
    out.println(indent + "pid     " + orDash(facts.get("pid")));
    out.println(indent + "uid     " + withName(facts.get("uid"), facts.get("user")));
    out.println(indent + "gid     " + withName(facts.get("gid"), facts.get("group")));
    Object groups = facts.get("groups");
    out.println(
        indent
            + "groups  "
            + (groups instanceof List<?> list
                ? (list.isEmpty()
                    ? "(none)"
                    : String.join(" ", list.stream().map(WhoamiCommand::printable).toList()))
                : "-"));
    out.println(indent + "exe     " + orDash(facts.get("exe")));
    out.println(indent + "label   " + orDash(facts.get("label")));
  }

  private static String withName(Object id, Object name) {
    return orDash(id) + (name == null ? "" : " (" + printable(name) + ")");
  }

  private static String orDash(Object value) {
    return value == null ? "-" : printable(value);
  }

  /** Values come from the server or the kernel (an executable's path may hold any byte). */
  private static String printable(Object value) {
    return Text.printable(String.valueOf(value));
  }
}
