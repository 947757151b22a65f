package dev.peercred.policy;

import dev.peercred.PeerIdentity;
import dev.peercred.UnixConnection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Tiered rights on one connection: a {@link Policy} per command, the article's "some users may
 * view, others may update".
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = commands}
 *
 * <p>Every decision is {@linkplain Audit#command recorded} (log line and {@code
 * dev.peercred.CommandDecision} event). A command with no policy is denied. Decisions fail closed
 * like {@link Policy#decide(PeerIdentity)}. Immutable and thread-safe.
 */
public final class CommandPolicy {
  private final Map<String, Policy> policies;

  private CommandPolicy(Map<String, Policy> policies) {
    this.policies = Map.copyOf(policies);
  }

  /** Starts an empty set of command policies. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link CommandPolicy}. Not thread-safe. */
  public static final class Builder {
    private final Map<String, Policy> policies = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Lets peers that {@code policy} allows run {@code command}.
     *
     * @throws IllegalArgumentException if the command is empty or already has a policy
     */
    public Builder command(String command, Policy policy) {
      Objects.requireNonNull(command, "command");
      Objects.requireNonNull(policy, "policy");
      if (command.isEmpty()) {
        throw new IllegalArgumentException("command is empty");
      }
      if (policies.putIfAbsent(command, policy) != null) {
        throw new IllegalArgumentException("command '" + command + "' already has a policy");
      }
      return this;
    }

    /** The command policies added so far. */
    public CommandPolicy build() {
      return new CommandPolicy(policies);
    }
  }

  /** The commands that have a policy. */
  public Set<String> commands() {
    return policies.keySet();
  }

  /**
   * Decides whether the peer of {@code connection} may run {@code command}, and records the
   * decision with the connection's local address as endpoint.
   */
  public Decision authorize(UnixConnection connection, String command) {
    Objects.requireNonNull(connection, "connection");
    return authorize(connection.peerIdentity(), command, connection.localAddress().toString());
  }

  /**
   * Decides whether {@code peer} may run {@code command}, and records the decision.
   *
   * @param endpoint where the command came in, for the audit record
   */
  public Decision authorize(PeerIdentity peer, String command, String endpoint) {
    Objects.requireNonNull(peer, "peer");
    Objects.requireNonNull(command, "command");
    Policy policy = policies.get(command);
    Decision decision =
        policy == null
            ? Decision.deny("no policy for command '" + command + "'")
            : policy.decide(peer);
    Audit.command(peer, command, decision, endpoint);
    return decision;
  }

  @Override
  public String toString() {
    return "CommandPolicy" + policies;
  }
}
