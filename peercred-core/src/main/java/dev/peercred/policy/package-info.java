/**
 * Authorization of Unix socket peers: policies, a text syntax for them, a listener that only hands
 * out allowed connections, per-command rights, and an audit trail.
 *
 * <ul>
 *   <li>{@link dev.peercred.policy.Policy}: a function from {@link dev.peercred.PeerIdentity} to a
 *       {@link dev.peercred.policy.Decision} (allow, deny, or error), with built-in rules (uid,
 *       gid, user and group names, root, same user, executable path and SHA-256, cgroup, security
 *       label, descendant of a process) and the combinators all/any/not.
 *   <li>{@link dev.peercred.policy.PolicyRules}: one rule per line, first match decides, {@code
 *       default deny} unless said otherwise; for configuration files and the command line.
 *   <li>{@link dev.peercred.policy.AuthorizingListener}: wraps a {@link dev.peercred.UnixListener};
 *       refused peers get a message (the article's {@code "Unauthorized access\n"}) and are closed.
 *   <li>{@link dev.peercred.policy.CommandPolicy}: tiered rights on one connection ("view" vs
 *       "update").
 *   <li>{@link dev.peercred.policy.Audit}: every decision as a log line ({@code
 *       dev.peercred.audit}) and a JFR event ({@code dev.peercred.ConnectionDecision}, {@code
 *       dev.peercred.CommandDecision}).
 * </ul>
 *
 * <p>Everything here fails closed: an exception, an unknown value or a failed lookup is a denial
 * whose reason says what went wrong.
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = authorizing}
 */
package dev.peercred.policy;
