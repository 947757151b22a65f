package dev.peercred.policy;

import java.util.Objects;

/**
 * The answer of a {@link Policy} about one peer, with a reason a person can read in an audit log.
 *
 * <p>An outcome is one of three values. {@link Outcome#ALLOW} and {@link Outcome#DENY} are answers;
 * {@link Outcome#ERROR} means the policy could not answer, because a value it needed is unknown (a
 * pid not visible in this namespace, an unmapped uid, a process that has exited) or a lookup failed
 * (names, {@code /proc}). Only {@code ALLOW} lets a peer in: {@link #allowed()} is false for an
 * error, so a caller that only asks {@code allowed()} fails closed.
 *
 * <p>Built-in rules such as {@link Policy#uid(long...)} answer {@code ALLOW} when the peer matches
 * and {@code DENY} when it does not; the combinators treat {@code ERROR} as "unknown" (three-valued
 * logic), so that {@link Policy#not(Policy)} never turns an error into an allow.
 *
 * @param outcome the answer
 * @param reason why, in a few words, for logs and audit events; never null
 */
public record Decision(Outcome outcome, String reason) {

  /** What a policy answered. */
  public enum Outcome {
    /** The peer is allowed (or, for a single rule, matches it). */
    ALLOW,
    /** The peer is denied (or, for a single rule, does not match it). */
    DENY,
    /** The policy could not decide; the peer is denied. */
    ERROR
  }

  /**
   * Checks the values.
   *
   * @throws NullPointerException if an argument is null
   */
  public Decision {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(reason, "reason");
  }

  /** An {@link Outcome#ALLOW} decision. */
  public static Decision allow(String reason) {
    return new Decision(Outcome.ALLOW, reason);
  }

  /** A {@link Outcome#DENY} decision. */
  public static Decision deny(String reason) {
    return new Decision(Outcome.DENY, reason);
  }

  /** An {@link Outcome#ERROR} decision: the policy could not decide, and the peer is denied. */
  public static Decision error(String reason) {
    return new Decision(Outcome.ERROR, reason);
  }

  /** True only for {@link Outcome#ALLOW}; an error is a denial. */
  public boolean allowed() {
    return outcome == Outcome.ALLOW;
  }

  /** Reads well in a log line: {@code ALLOW (uid 1000 is in 1000,1001)}. */
  @Override
  public String toString() {
    return outcome + " (" + reason + ")";
  }
}
