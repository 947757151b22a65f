package dev.peercred.policy;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import dev.peercred.PeerProcess;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;

/**
 * Records authorization decisions: one line through {@link System.Logger} {@value #LOGGER_NAME} and
 * one JFR event, {@code dev.peercred.ConnectionDecision} or {@code dev.peercred.CommandDecision},
 * with the peer's uid, gid, pid, executable where known, the outcome and the reason.
 *
 * <p>Allowed decisions are logged at {@code INFO}, denials and errors at {@code WARNING}. The log
 * line reads {@code connection DENY endpoint=/run/kv.sock uid=1001 gid=1001 pid=4242
 * exe=/usr/bin/python3.11 reason="..."}. A record reads nothing the decision did not: {@code exe}
 * is given when the policy looked at the process (it was pinned then, and is read once more from
 * the pinned process), and is {@code ?} otherwise or when it cannot be read, so a uid check stays a
 * single {@code getsockopt}. To see the events, start a recording ({@code jcmd <pid> JFR.start}, or
 * {@code -XX:StartFlightRecording}) and run {@code jfr print --events
 * dev.peercred.ConnectionDecision recording.jfr}.
 *
 * <p>{@link AuthorizingListener} and {@link CommandPolicy} call these methods; servers that decide
 * by other means can call them too. Recording never throws.
 */
public final class Audit {
  /** The name of the logger audit lines go to. */
  public static final String LOGGER_NAME = "dev.peercred.audit";

  private static final Logger LOG = System.getLogger(LOGGER_NAME);

  private Audit() {}

  /**
   * Records the decision about a connection from {@code peer} on {@code endpoint} (the listener's
   * address, for example).
   */
  public static void connection(PeerIdentity peer, Decision decision, String endpoint) {
    record(peer, null, decision, endpoint);
  }

  /** Records the decision about {@code command} asked by {@code peer} on {@code endpoint}. */
  public static void command(
      PeerIdentity peer, String command, Decision decision, String endpoint) {
    String name = Objects.requireNonNullElse(command, "?");
    record(peer, name.length() > 64 ? name.substring(0, 64) + "..." : name, decision, endpoint);
  }

  private static void record(
      PeerIdentity peer, String command, Decision decision, String endpoint) {
    try {
      Level level = decision.allowed() ? Level.INFO : Level.WARNING;
      DecisionEvent event;
      if (command == null) {
        event = new ConnectionDecisionEvent();
      } else {
        CommandDecisionEvent commandEvent = new CommandDecisionEvent();
        commandEvent.command = command;
        event = commandEvent;
      }
      boolean record = event.shouldCommit();
      boolean log = LOG.isLoggable(level);
      if (!record && !log) {
        return;
      }
      PeerCredentials c = peer.credentials();
      long pid = c.pid().orElse(0);
      String exe = executable(peer);
      String where = Objects.requireNonNullElse(endpoint, "?");
      if (record) {
        event.endpoint = where;
        event.pid = pid;
        event.uid = c.uid();
        event.gid = c.gid();
        event.executable = exe;
        event.allowed = decision.allowed();
        event.outcome = decision.outcome().name();
        event.reason = decision.reason();
        event.commit();
      }
      if (log) {
        LOG.log(
            level,
            (command == null ? "connection " : "command " + sanitize(command) + " ")
                + decision.outcome()
                + " endpoint="
                + where
                + " uid="
                + c.uid()
                + " gid="
                + c.gid()
                + " pid="
                + (pid == 0 ? "?" : Long.toString(pid))
                + " exe="
                + (exe == null ? "?" : exe)
                + " reason=\""
                + sanitize(decision.reason())
                + "\"");
      }
    } catch (RuntimeException e) {
      // Auditing must never take a server down; the decision itself stands.
    }
  }

  /** The executable if the decision already read the process; an audit adds no reads of its own. */
  private static String executable(PeerIdentity peer) {
    try {
      Optional<PeerProcess> process = peer.resolvedProcess();
      return process.isPresent() ? process.get().executable().toString() : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** Keeps one record on one line: control characters and quotes from peers are escaped. */
  static String sanitize(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < ' ' || c == 0x7F) {
        out.append(String.format("\\x%02x", (int) c));
      } else if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
