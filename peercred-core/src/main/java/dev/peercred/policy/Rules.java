package dev.peercred.policy;

import dev.peercred.PeerCredentials;
import dev.peercred.PeerIdentity;
import dev.peercred.PeerProcess;
import dev.peercred.PeerProcessGoneException;
import dev.peercred.internal.linux.Nss;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/**
 * The built-in policies. Each is a record whose {@code toString()} is its text syntax without the
 * {@code allow}/{@code deny} verb, so that rules print back to what parses.
 */
final class Rules {
  private Rules() {}

  static final long MAX_ID = 0xFFFF_FFFEL; // (uid_t) -1 is never an id
  private static final Pattern DIGITS = Pattern.compile("[0-9]+");
  private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final int MAX_ANCESTORS = 4096;

  // ---------------------------------------------------------------- argument checks

  static List<Long> ids(String what, long... ids) {
    Objects.requireNonNull(ids, what + "s");
    if (ids.length == 0) {
      throw new IllegalArgumentException("at least one " + what + " is needed");
    }
    for (long id : ids) {
      if (id < 0 || id > MAX_ID) {
        throw new IllegalArgumentException(what + " out of range 0..4294967294: " + id);
      }
    }
    return LongStream.of(ids).distinct().boxed().toList();
  }

  static List<String> names(String what, String... names) {
    Objects.requireNonNull(names, what + " names");
    if (names.length == 0) {
      throw new IllegalArgumentException("at least one " + what + " name is needed");
    }
    for (String name : names) {
      checkName(what, name);
    }
    return List.of(names).stream().distinct().toList();
  }

  /**
   * Returns a message if {@code name} is not a valid user or group name, else null. All digits is a
   * valid name elsewhere, but a rule takes it for a mistaken id.
   */
  static String nameProblem(String what, String name) {
    String problem = Nss.nameProblem(what, name);
    if (problem != null) {
      return problem;
    }
    if (DIGITS.matcher(name).matches()) {
      return what
          + " name is all digits: '"
          + name
          + "' (use "
          + (what.equals("user") ? "uid" : "gid")
          + " for numeric ids)";
    }
    return null;
  }

  private static void checkName(String what, String name) {
    String problem = nameProblem(what, name);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  static String sha256(String hex) {
    Objects.requireNonNull(hex, "hex");
    if (!HEX64.matcher(hex).matches()) {
      throw new IllegalArgumentException("SHA-256 must be 64 hexadecimal digits: '" + hex + "'");
    }
    return hex.toLowerCase(java.util.Locale.ROOT);
  }

  static String cgroupPrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (!prefix.startsWith("/")) {
      throw new IllegalArgumentException("cgroup path must start with '/': '" + prefix + "'");
    }
    checkToken("cgroup path", prefix);
    return prefix;
  }

  static String labelPattern(String pattern) {
    Objects.requireNonNull(pattern, "pattern");
    if (pattern.isEmpty()) {
      throw new IllegalArgumentException("label pattern is empty");
    }
    if (pattern.startsWith("#")) {
      throw new IllegalArgumentException(
          "label pattern starts with '#' (a comment in policy text)");
    }
    checkToken("label pattern", pattern);
    return pattern;
  }

  /** Rejects what the text syntax could not print back: whitespace, control characters. */
  static void checkToken(String what, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c <= ' ' || c == 0x7F || Character.isWhitespace(c)) {
        throw new IllegalArgumentException(
            what
                + " contains whitespace or a control character at index "
                + i
                + ": '"
                + value
                + "'");
      }
    }
  }

  static List<Policy> list(Policy... policies) {
    Objects.requireNonNull(policies, "policies");
    for (int i = 0; i < policies.length; i++) {
      Objects.requireNonNull(policies[i], "policies[" + i + "]");
    }
    return List.of(policies);
  }

  static String joinIds(List<Long> ids) {
    return ids.stream().map(String::valueOf).collect(Collectors.joining(","));
  }

  // ---------------------------------------------------------------- shared checks

  /**
   * Allows a peer whose uid is one of {@code uids} ({@link PeerCredentials#hasUid}) and denies
   * another; a uid that is not mapped in this user namespace could be anyone's, so it is an error.
   */
  private static Decision uidIn(PeerIdentity peer, List<Long> uids, String rule) {
    PeerCredentials c = peer.credentials();
    if (!c.isUidMapped()) {
      return Decision.error(rule + ": uid " + c.uid() + " is unmapped in this user namespace");
    }
    for (long uid : uids) {
      if (c.hasUid(uid)) {
        return Decision.allow(rule + " matches uid " + uid);
      }
    }
    return Decision.deny(rule + " does not match uid " + c.uid());
  }

  private static PeerProcess process(PeerIdentity peer) throws IOException {
    if (peer.pid().isEmpty()) {
      throw new NoProcess("pid not visible in this pid namespace");
    }
    Optional<PeerProcess> process = peer.process();
    if (process.isEmpty()) {
      throw new NoProcess("process " + peer.pid().getAsLong() + " not visible");
    }
    return process.get();
  }

  /** Thrown inside a rule when the peer process cannot be known; turned into an error decision. */
  static final class NoProcess extends IOException {
    private static final long serialVersionUID = 1L;

    NoProcess(String message) {
      super(message);
    }
  }

  private static Decision unknown(String rule, IOException e) {
    if (e instanceof NoProcess) {
      return Decision.error(rule + ": " + e.getMessage());
    }
    if (e instanceof PeerProcessGoneException) {
      return Decision.error(rule + ": peer process has exited (" + e.getMessage() + ")");
    }
    return Decision.error(rule + ": " + e);
  }

  /**
   * Allows a peer whose primary gid or one of whose supplementary groups is in {@code gids} ({@link
   * PeerIdentity#hasGroup}) and denies another; if it has a gid that is not mapped in this user
   * namespace (which could be one of them), or its groups cannot be read, it is an error.
   */
  private static Decision inGroups(PeerIdentity peer, List<Long> gids, String rule) {
    Exception unreadable = null;
    for (long gid : gids) {
      try {
        if (peer.hasGroup(gid)) {
          return Decision.allow(rule + ": peer has gid " + gid);
        }
      } catch (IOException | RuntimeException e) {
        unreadable = e; // a later gid may still be the primary one, which needs no groups
      }
    }
    if (unreadable != null) {
      return Decision.error(rule + ": supplementary groups unknown: " + unreadable);
    }
    try {
      if (!peer.isGidMapped() || peer.hasUnmappedGroups()) {
        return Decision.error(rule + ": peer has a gid unmapped in this user namespace");
      }
      return Decision.deny(
          rule + ": gid " + peer.gid() + " and groups " + peer.groups() + " do not match");
    } catch (IOException e) {
      return Decision.error(rule + ": supplementary groups unknown: " + e);
    }
  }

  /**
   * Resolves user or group {@code names} (through NSS, now), then decides with {@code decide} on
   * the ids found. A name nobody has is no match, and makes a decision that is not an allow an
   * error: the rule meant someone who is not there.
   */
  private static Decision byNames(
      List<String> names, boolean groups, String rule, Function<List<Long>, Decision> decide)
      throws IOException {
    List<Long> ids = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    for (String name : names) {
      OptionalLong id = groups ? Nss.gidOf(name) : Nss.uidOf(name);
      if (id.isPresent()) {
        ids.add(id.getAsLong());
      } else {
        unknown.add(name);
      }
    }
    String what = groups ? "group" : "user";
    Decision decision =
        ids.isEmpty() ? Decision.deny(rule + ": no " + what + " resolved") : decide.apply(ids);
    if (!decision.allowed() && !unknown.isEmpty()) {
      return Decision.error(rule + ": unknown " + what + " " + String.join(",", unknown));
    }
    return decision;
  }

  // ---------------------------------------------------------------- rules

  enum Anyone implements Policy {
    INSTANCE;

    @Override
    public Decision evaluate(PeerIdentity peer) {
      return Decision.allow("any");
    }

    @Override
    public String toString() {
      return "any";
    }
  }

  enum SameUser implements Policy {
    INSTANCE;

    @Override
    public Decision evaluate(PeerIdentity peer) {
      return uidIn(peer, List.of(PeerCredentials.ofCurrentProcess().uid()), toString());
    }

    @Override
    public String toString() {
      return "same-user";
    }
  }

  enum Root implements Policy {
    INSTANCE;

    @Override
    public Decision evaluate(PeerIdentity peer) {
      return uidIn(peer, List.of(0L), toString());
    }

    @Override
    public String toString() {
      return "root";
    }
  }

  record Uids(List<Long> uids) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      return uidIn(peer, uids, toString());
    }

    @Override
    public String toString() {
      return "uid " + joinIds(uids);
    }
  }

  record Gids(List<Long> gids) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      return inGroups(peer, gids, toString());
    }

    @Override
    public String toString() {
      return "gid " + joinIds(gids);
    }
  }

  record Users(List<String> names) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) throws IOException {
      return byNames(names, false, toString(), uids -> uidIn(peer, uids, toString()));
    }

    @Override
    public String toString() {
      return "user " + String.join(",", names);
    }
  }

  record Groups(List<String> names) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) throws IOException {
      return byNames(names, true, toString(), gids -> inGroups(peer, gids, toString()));
    }

    @Override
    public String toString() {
      return "group " + String.join(",", names);
    }
  }

  record Executable(String path) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      try {
        PeerProcess process = process(peer);
        Path actual = process.executable();
        Path expected;
        try {
          expected = Path.of(path).toRealPath();
        } catch (NoSuchFileException e) {
          return Decision.deny(this + ": " + path + " does not exist; peer runs " + actual);
        }
        return actual.equals(expected)
            ? Decision.allow(this + ": peer runs " + actual)
            : Decision.deny(this + ": peer runs " + actual);
      } catch (IOException e) {
        return unknown(toString(), e);
      }
    }

    @Override
    public String toString() {
      return "exe " + path;
    }
  }

  record ExecutableSha256(String hex) implements Policy {
    /**
     * Digests of executables by device, inode, size and change time: a running executable cannot be
     * written ({@code ETXTBSY}) and any change to a file moves its ctime, so a hit is the digest of
     * the very bytes the process runs. Bounded; cleared when full.
     */
    private static final Map<String, String> DIGESTS = new ConcurrentHashMap<>();

    private static final int MAX_DIGESTS = 256;

    @Override
    public Decision evaluate(PeerIdentity peer) {
      try {
        PeerProcess process = process(peer);
        Path exe = Path.of("/proc", Long.toString(process.pid()), "exe");
        String key = fileKey(exe);
        String actual = DIGESTS.get(key);
        if (actual == null) {
          actual = digest(exe);
          if (key.equals(fileKey(exe))) {
            if (DIGESTS.size() >= MAX_DIGESTS) {
              DIGESTS.clear();
            }
            DIGESTS.put(key, actual);
          }
        }
        // The file was opened by pid; only if the pinned process still lives was it its file.
        if (!process.isAlive()) {
          throw new PeerProcessGoneException("process " + process.pid() + " exited");
        }
        return actual.equals(hex)
            ? Decision.allow("exe-sha256 matches")
            : Decision.deny("exe-sha256: peer's executable has " + actual);
      } catch (IOException e) {
        return unknown("exe-sha256", e);
      }
    }

    private static String fileKey(Path exe) throws IOException {
      Map<String, Object> a = Files.readAttributes(exe, "unix:dev,ino,size,ctime");
      return a.get("dev") + ":" + a.get("ino") + ":" + a.get("size") + ":" + a.get("ctime");
    }

    private static String digest(Path exe) throws IOException {
      MessageDigest digest;
      try {
        digest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IOException("no SHA-256 in this JDK", e);
      }
      try (InputStream in = Files.newInputStream(exe)) {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) > 0; ) {
          digest.update(buffer, 0, n);
        }
      }
      return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public String toString() {
      return "exe-sha256 " + hex;
    }
  }

  record Cgroup(String prefix) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      try {
        Optional<String> cgroup = process(peer).cgroup();
        if (cgroup.isEmpty()) {
          return Decision.error(this + ": peer's cgroup v2 path unknown");
        }
        String actual = cgroup.get();
        String base = prefix.endsWith("/") ? prefix : prefix + "/";
        return actual.equals(prefix) || actual.startsWith(base)
            ? Decision.allow(this + ": peer in " + actual)
            : Decision.deny(this + ": peer in " + actual);
      } catch (IOException e) {
        return unknown(toString(), e);
      }
    }

    @Override
    public String toString() {
      return "cgroup " + prefix;
    }
  }

  record Label(String pattern) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      try {
        Optional<String> label = peer.securityLabel();
        if (label.isEmpty()) {
          return Decision.deny(this + ": peer has no security label");
        }
        return globMatches(pattern, label.get())
            ? Decision.allow(this + ": peer label " + label.get())
            : Decision.deny(this + ": peer label " + label.get());
      } catch (IOException e) {
        return unknown(toString(), e);
      }
    }

    @Override
    public String toString() {
      return "label " + pattern;
    }
  }

  /** Glob match with {@code *} and {@code ?}, iterative with backtracking to the last star. */
  static boolean globMatches(String pattern, String text) {
    int p = 0;
    int t = 0;
    int star = -1;
    int mark = 0;
    while (t < text.length()) {
      if (p < pattern.length()
          && (pattern.charAt(p) == '?' || pattern.charAt(p) == text.charAt(t))) {
        p++;
        t++;
      } else if (p < pattern.length() && pattern.charAt(p) == '*') {
        star = p++;
        mark = t;
      } else if (star >= 0) {
        p = star + 1;
        t = ++mark;
      } else {
        return false;
      }
    }
    while (p < pattern.length() && pattern.charAt(p) == '*') {
      p++;
    }
    return p == pattern.length();
  }

  record DescendantOf(long pid) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      try {
        PeerProcess current = process(peer);
        long self = current.pid();
        for (int depth = 0; depth < MAX_ANCESTORS; depth++) {
          Optional<PeerProcess> parent = current.parent();
          if (parent.isEmpty()) {
            return Decision.deny(this + ": process " + self + " does not descend from " + pid);
          }
          current = parent.get();
          if (current.pid() == pid) {
            return Decision.allow(this + ": process " + self + " descends from " + pid);
          }
        }
        return Decision.error(this + ": ancestry deeper than " + MAX_ANCESTORS);
      } catch (IOException e) {
        return unknown(toString(), e);
      }
    }

    @Override
    public String toString() {
      return "descendant-of " + pid;
    }
  }

  // ---------------------------------------------------------------- combinators

  record AllOf(List<Policy> policies) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      if (policies.size() == 1) {
        return policies.get(0).decide(peer);
      }
      List<String> reasons = new ArrayList<>();
      for (Policy policy : policies) {
        Decision d = policy.decide(peer);
        if (!d.allowed()) {
          return d;
        }
        reasons.add(d.reason());
      }
      return Decision.allow(
          "all of " + policies.size() + " allowed: " + String.join("; ", reasons));
    }

    @Override
    public String toString() {
      return "allOf" + policies;
    }
  }

  record AnyOf(List<Policy> policies) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      if (policies.size() == 1) {
        return policies.get(0).decide(peer);
      }
      Decision error = null;
      List<String> reasons = new ArrayList<>();
      for (Policy policy : policies) {
        Decision d = policy.decide(peer);
        if (d.allowed()) {
          return d;
        }
        if (d.outcome() == Decision.Outcome.ERROR && error == null) {
          error = d;
        }
        reasons.add(d.reason());
      }
      if (error != null) {
        return Decision.error(
            "none of " + policies.size() + " allowed, one failed: " + error.reason());
      }
      return Decision.deny(
          "none of " + policies.size() + " allowed: " + String.join("; ", reasons));
    }

    @Override
    public String toString() {
      return "anyOf" + policies;
    }
  }

  record Not(Policy policy) implements Policy {
    @Override
    public Decision evaluate(PeerIdentity peer) {
      Decision d = policy.decide(peer);
      return switch (d.outcome()) {
        case ALLOW -> Decision.deny("not: " + d.reason());
        case DENY -> Decision.allow("not: " + d.reason());
        case ERROR -> d;
      };
    }

    @Override
    public String toString() {
      return "not(" + policy + ")";
    }
  }
}
