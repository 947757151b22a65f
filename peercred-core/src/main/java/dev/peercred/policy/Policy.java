package dev.peercred.policy;

import dev.peercred.PeerIdentity;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Decides whether the peer of a connection may do something: connect at all, or run one command.
 *
 * <p>A policy is a function of the peer's {@link PeerIdentity}. Write one as a lambda, combine the
 * built-ins ({@link #uid(long...)}, {@link #group(String...)}, {@link #executable(Path)}, ...) with
 * {@link #allOf(Policy...)}, {@link #anyOf(Policy...)} and {@link #not(Policy)}, or {@linkplain
 * PolicyRules#parse(String) parse} the text syntax of {@code docs/policies.md}:
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = policy}
 *
 * <p><b>Fail closed.</b> Callers ask through {@link #decide(PeerIdentity)}, which turns an
 * exception or a null answer into an {@link Decision.Outcome#ERROR} decision, and an error is a
 * denial. Built-in rules never let an unknown value count as a match: an unmapped uid or gid, a pid
 * that is not visible in this pid namespace, or a process that has exited gives {@code ERROR},
 * never {@code ALLOW}; combinators keep it an error unless the other operands decide the answer
 * alone (three-valued logic), so {@code not(...)} of an error stays an error.
 *
 * <p>Built-in rules read what they need when they are checked, so names and executables are looked
 * up at that moment; a policy holds no state about peers and may be shared between threads.
 */
@FunctionalInterface
public interface Policy {

  /**
   * Answers for {@code peer}. Implementations may throw; callers use {@link #decide(PeerIdentity)},
   * which treats a throw as a denial.
   *
   * @throws IOException if something about the peer cannot be read
   */
  Decision evaluate(PeerIdentity peer) throws IOException;

  /**
   * Evaluates this policy for {@code peer}, failing closed: an exception (including {@link
   * UnsupportedOperationException} from an identity detail this platform cannot provide) or a null
   * answer becomes an {@link Decision.Outcome#ERROR} decision naming what went wrong. Errors
   * ({@link Error}) are not caught.
   *
   * @throws NullPointerException if {@code peer} is null
   */
  default Decision decide(PeerIdentity peer) {
    Objects.requireNonNull(peer, "peer");
    try {
      Decision decision = evaluate(peer);
      return decision != null ? decision : Decision.error("policy " + this + " returned null");
    } catch (Exception e) {
      return Decision.error("policy " + this + " failed: " + e);
    }
  }

  /** Matches every peer. As a text rule: {@code allow any}. */
  static Policy anyone() {
    return Rules.Anyone.INSTANCE;
  }

  /**
   * Matches a peer whose effective uid is the one this process runs as, read when checked: the
   * article's "same user only". As a text rule: {@code allow same-user}.
   */
  static Policy sameUser() {
    return Rules.SameUser.INSTANCE;
  }

  /** Matches a peer running as root (uid 0 in this user namespace). Text: {@code allow root}. */
  static Policy root() {
    return Rules.Root.INSTANCE;
  }

  /**
   * Matches a peer whose effective uid is one of {@code uids}. An unmapped uid (the overflow uid of
   * a user namespace) is never taken for a real one: it gives an error. Text: {@code allow uid
   * 1000,1001}.
   *
   * @throws IllegalArgumentException if no uid is given or one is outside 0..4294967294
   */
  static Policy uid(long... uids) {
    return new Rules.Uids(Rules.ids("uid", uids));
  }

  /**
   * Matches a peer whose primary gid or one of whose supplementary groups ({@code SO_PEERGROUPS})
   * is one of {@code gids}. Text: {@code allow gid 27}.
   *
   * @throws IllegalArgumentException if no gid is given or one is outside 0..4294967294
   */
  static Policy gid(long... gids) {
    return new Rules.Gids(Rules.ids("gid", gids));
  }

  /**
   * Matches a peer whose uid is that of one of the named users. Names are resolved through the
   * system's user database each time the rule is checked, so users created or removed later count;
   * a name that resolves to no user gives an error (a denial), never a match. Text: {@code allow
   * user alice}.
   *
   * @throws IllegalArgumentException if no name is given or a name is not a valid user name
   */
  static Policy user(String... names) {
    return new Rules.Users(Rules.names("user", names));
  }

  /**
   * Matches a peer whose primary or a supplementary group is one of the named groups, resolved like
   * {@link #user(String...)} when checked. Text: {@code allow group docker}.
   *
   * @throws IllegalArgumentException if no name is given or a name is not a valid group name
   */
  static Policy group(String... names) {
    return new Rules.Groups(Rules.names("group", names));
  }

  /**
   * Matches a peer process whose executable ({@code /proc/<pid>/exe}, read through the pinned
   * {@link dev.peercred.PeerProcess}) is {@code path} once both are made canonical (symbolic links
   * resolved when checked). An executable replaced or deleted since the peer started does not
   * match. Text: {@code allow exe /usr/bin/foo}.
   *
   * @throws IllegalArgumentException if the path is not absolute
   */
  static Policy executable(Path path) {
    Objects.requireNonNull(path, "path");
    if (!path.isAbsolute()) {
      throw new IllegalArgumentException("executable path must be absolute: " + path);
    }
    return new Rules.Executable(path.toString());
  }

  /**
   * Matches a peer process whose executable's content has this SHA-256 digest. The file is read
   * through {@code /proc/<pid>/exe}, which opens the very file the process runs even if its path
   * now names another, and the pinned process is checked to be alive after the read. Digests are
   * cached by device, inode, size and change time, so a binary is read once while it is unchanged.
   * Text: {@code allow exe-sha256 <64 hex digits>}.
   *
   * @throws IllegalArgumentException if {@code hex} is not 64 hexadecimal digits
   */
  static Policy executableSha256(String hex) {
    return new Rules.ExecutableSha256(Rules.sha256(hex));
  }

  /**
   * Matches a peer process whose cgroup v2 path is {@code prefix} or lies below it, segment-wise:
   * {@code /system.slice/foo.service} matches that unit and its sub-cgroups, not {@code
   * foo.service2}. Text: {@code allow cgroup /system.slice/foo.service}.
   *
   * @throws IllegalArgumentException if the prefix does not start with {@code /}
   */
  static Policy cgroup(String prefix) {
    return new Rules.Cgroup(Rules.cgroupPrefix(prefix));
  }

  /**
   * Matches a peer whose security label ({@code SO_PEERSEC}) matches the glob {@code pattern}
   * ({@code *} any run of characters, {@code ?} one character, everything else literal). A peer
   * without a label (no security module) does not match. Text: {@code allow label
   * system_u:system_r:*}.
   *
   * @throws IllegalArgumentException if the pattern is empty or contains whitespace
   */
  static Policy securityLabel(String pattern) {
    return new Rules.Label(Rules.labelPattern(pattern));
  }

  /**
   * Matches a peer process that descends from process {@code pid} (its child, grandchild, ...; not
   * the process itself). The chain is walked through pinned parent handles, so a parent that exits
   * midway gives an error rather than a guess. Text: {@code allow descendant-of 1234}.
   *
   * @throws IllegalArgumentException if {@code pid} is not positive
   */
  static Policy descendantOf(long pid) {
    if (pid <= 0 || pid > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("pid must be in 1..2147483647: " + pid);
    }
    return new Rules.DescendantOf(pid);
  }

  /**
   * Allows when every policy allows, in order, stopping at the first that does not; an error stays
   * an error. With no policies it allows.
   */
  static Policy allOf(Policy... policies) {
    return new Rules.AllOf(Rules.list(policies));
  }

  /**
   * Allows when any policy allows, in order, stopping at the first that does; otherwise an error if
   * any policy erred (its answer is unknown), else a denial. With no policies it denies.
   */
  static Policy anyOf(Policy... policies) {
    return new Rules.AnyOf(Rules.list(policies));
  }

  /** Swaps allow and deny; an error stays an error (a denial). */
  static Policy not(Policy policy) {
    return new Rules.Not(Objects.requireNonNull(policy, "policy"));
  }
}
