package dev.peercred.cli.http;

import dev.peercred.PeerIdentity;
import dev.peercred.policy.Decision;
import dev.peercred.policy.PolicyRules;
import dev.peercred.policy.PolicySyntaxException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The proxy's per-request rules: a policy file in the syntax of {@link PolicyRules}
 * (docs/policies.md) whose rules may end with an HTTP part, checked from the top for every request;
 * the first rule that matches both the caller and the request decides, and none matching denies
 * ({@code default deny} unless the file says otherwise).
 *
 * {@snippet :
 * allow uid 0                                         # no http part: every request of root
 * allow group docker-ro http GET,HEAD /_ping
 * allow uid 65534 http GET /containers/json
 * allow uid 65534 http GET /containers/{id}/json
 * allow group builders http POST /containers/create body unprivileged
 * allow group monitoring http docker-read-only        # a preset
 * }
 *
 * <p>An HTTP part is {@code http METHODS PATH [body CHECK]} or {@code http PRESET}. {@code METHODS}
 * is a comma list or {@code *}; {@code PATH} is matched against the canonical path after the API
 * version prefix ({@link CanonicalPath}), with {@code {name}} or {@code *} for one segment and a
 * final {@code **} for the rest ({@link PathPattern}). {@code body unprivileged} matches a {@code
 * POST /containers/create} whose body asks for no host access ({@link ContainerBody}); {@code body
 * privileged} one whose body asks for some. A rule without an HTTP part matches every request of
 * the callers it names, except those that only a literal path may match ({@code /session}, {@code
 * /grpc}).
 *
 * <p>Caller conditions are checked once per connection ({@link #forPeer}): the kernel's identity of
 * a connection does not change between its requests.
 */
public final class HttpRules {
  private final PolicyRules identity;

  /** The HTTP part of each rule, by rule (identity); rules without one are absent. */
  private final Map<PolicyRules.Rule, Alternatives> parts;

  private HttpRules(PolicyRules identity, Map<PolicyRules.Rule, Alternatives> parts) {
    this.identity = identity;
    this.parts = parts;
  }

  /** The route of container creation, the one request whose body rules may check. */
  public static final String CONTAINER_CREATION = "/containers/create";

  /**
   * Whether a request with {@code method} and {@code route} (the path without its version prefix)
   * creates a container.
   */
  public static boolean isContainerCreation(String method, String route) {
    return method.equals("POST") && route.equals(CONTAINER_CREATION);
  }

  /** The presets an HTTP part may name, each a list of method and path alternatives. */
  static final Map<String, List<Part>> PRESETS = presets();

  private static Map<String, List<Part>> presets() {
    List<Part> readOnly = new ArrayList<>();
    for (String path :
        List.of(
            "/_ping",
            "/version",
            "/info",
            "/events",
            "/system/df",
            "/containers/json",
            "/containers/{id}/json",
            "/containers/{id}/top",
            "/containers/{id}/logs",
            "/containers/{id}/stats",
            "/containers/{id}/changes",
            "/images/json",
            "/images/{name}/json",
            "/images/{name}/history",
            "/networks",
            "/networks/{id}",
            "/volumes",
            "/volumes/{name}",
            "/plugins",
            "/services",
            "/services/{id}",
            "/tasks",
            "/tasks/{id}",
            "/nodes",
            "/nodes/{id}",
            "/swarm")) {
      readOnly.add(new Part(Set.of("GET", "HEAD"), PathPattern.parse(path), Body.ANY));
    }
    return Map.of("docker-read-only", List.copyOf(readOnly));
  }

  /** What a rule asks of a request body. */
  enum Body {
    ANY,
    UNPRIVILEGED,
    PRIVILEGED
  }

  /**
   * An HTTP part: methods (empty for {@code *}), a path pattern, and what the body must be.
   *
   * @param methods the methods matched; empty for any
   * @param path the path pattern
   * @param body the body condition
   */
  record Part(Set<String> methods, PathPattern path, Body body) {
    boolean matches(Request request) {
      return (methods.isEmpty() || methods.contains(request.method()))
          && path.matches(request.path());
    }

    @Override
    public String toString() {
      String text =
          (methods.isEmpty() ? "*" : String.join(",", methods.stream().sorted().toList()))
              + " "
              + path;
      return body == Body.ANY ? text : text + " body " + body.name().toLowerCase();
    }
  }

  /** A rule's HTTP part: one part, or the alternatives of a preset. */
  private record Alternatives(String text, List<Part> parts) {}

  /**
   * Parses rule text.
   *
   * @throws PolicySyntaxException naming the line and column of the first problem
   */
  public static HttpRules parse(String text) {
    String[] lines = text.split("\n", -1);
    StringBuilder identityText = new StringBuilder();
    Map<Integer, Alternatives> byLine = new HashMap<>();
    for (int i = 0; i < lines.length; i++) {
      String line =
          lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
      int split = httpPart(line, i + 1);
      if (split < 0) {
        identityText.append(line);
      } else {
        identityText.append(line, 0, split);
        byLine.put(i + 1, parsePart(line, split, i + 1));
      }
      identityText.append('\n');
    }
    PolicyRules identity = PolicyRules.parse(identityText.toString());
    Map<PolicyRules.Rule, Alternatives> parts = new IdentityHashMap<>();
    for (PolicyRules.Rule rule : identity.rules()) {
      Alternatives part = byLine.get(rule.line());
      if (part != null) {
        parts.put(rule, part);
      }
    }
    return new HttpRules(identity, parts);
  }

  /** The rule text of {@code rule}, its HTTP part included, as an audit record shows it. */
  String text(PolicyRules.Rule rule) {
    Alternatives part = parts.get(rule);
    return rule + (part == null ? "" : " http " + part.text());
  }

  /** The rules without their HTTP parts: what decides whole connections (the byte proxy). */
  public PolicyRules callerRules() {
    return identity;
  }

  /** The line of the first rule with an HTTP part; 0 if none has one. */
  public int firstHttpLine() {
    return identity.rules().stream()
        .filter(parts::containsKey)
        .mapToInt(PolicyRules.Rule::line)
        .min()
        .orElse(0);
  }

  /** True if some rule has an HTTP part. */
  public boolean hasHttpParts() {
    return !parts.isEmpty();
  }

  /**
   * The rules for one connection's caller: each caller condition checked once, now (it reads the
   * kernel's identity of the connection, which does not change); requests are then decided without
   * reading anything more about the peer.
   */
  public ForPeer forPeer(PeerIdentity peer) {
    Map<PolicyRules.Rule, Decision> decided = new IdentityHashMap<>();
    for (PolicyRules.Rule rule : identity.rules()) {
      decided.put(rule, rule.condition().decide(peer));
    }
    return new ForPeer(decided);
  }

  /**
   * What a request's body asks of the host, for rules with a body check: the host access it asks
   * for (none: empty), or why it could not be read.
   *
   * @param hostAccess what {@link ContainerBody#hostAccess} found; null if unreadable
   * @param unreadable why the body could not be judged; null if it was
   */
  record BodyFacts(List<String> hostAccess, String unreadable) {}

  /** The rules with one caller's conditions decided. */
  public final class ForPeer {
    private final Map<PolicyRules.Rule, Decision> callers;

    /** Rule texts made so far: each is made once per connection, not once per request. */
    private final Map<PolicyRules.Rule, String> texts = new IdentityHashMap<>();

    private ForPeer(Map<PolicyRules.Rule, Decision> callers) {
      this.callers = callers;
    }

    /** The text of {@code rule} with its HTTP part, as audit records show it. */
    String text(PolicyRules.Rule rule) {
      return texts.computeIfAbsent(rule, HttpRules.this::text);
    }

    /**
     * True if deciding {@code request} needs its body: a rule that could apply to this caller has a
     * body check for it.
     */
    boolean needsBody(Request request) {
      for (PolicyRules.Rule rule : identity.rules()) {
        Alternatives part = parts.get(rule);
        if (part != null
            && callers.get(rule).outcome() != Decision.Outcome.DENY
            && part.parts().stream().anyMatch(p -> p.body() != Body.ANY && p.matches(request))) {
          return true;
        }
      }
      return false;
    }

    /**
     * Decides {@code request}; {@code body} is what its body holds when {@link #needsBody} said so,
     * null otherwise.
     */
    PolicyRules.Verdict decide(Request request, BodyFacts body) {
      return identity.evaluate(rule -> matches(rule, request, body));
    }

    private Decision matches(PolicyRules.Rule rule, Request request, BodyFacts body) {
      Alternatives part = parts.get(rule);
      Decision caller = callers.get(rule);
      if (part == null) {
        if (PathPattern.isLiteralOnly(request.path())) {
          return Decision.deny(request.path().route() + " needs a rule that names it");
        }
        return caller;
      }
      Part matched = null;
      for (Part p : part.parts()) {
        if (p.matches(request)) {
          matched = p;
          break;
        }
      }
      if (matched == null) {
        return Decision.deny("not " + part.text());
      }
      if (!caller.allowed()) {
        return caller;
      }
      if (matched.body() == Body.ANY) {
        return Decision.allow(caller.reason() + "; " + request.method() + " " + matched.path());
      }
      if (body == null || body.unreadable() != null) {
        return Decision.error(
            "the body cannot be checked: " + (body == null ? "not read" : body.unreadable()));
      }
      boolean privileged = !body.hostAccess().isEmpty();
      String what =
          privileged
              ? "the body asks for " + String.join(", ", body.hostAccess())
              : "no host access";
      return privileged == (matched.body() == Body.PRIVILEGED)
          ? Decision.allow(caller.reason() + "; " + what)
          : Decision.deny(what);
    }
  }

  /** Where the HTTP part of {@code line} starts (its {@code http} word), or -1 if it has none. */
  private static int httpPart(String line, int lineNumber) {
    List<int[]> words = words(line);
    for (int w = 2; w < words.size(); w++) {
      int[] word = words.get(w);
      if (!line.substring(word[0], word[1]).equals("http") || w == words.size() - 1) {
        continue;
      }
      try {
        PolicyRules.parse(line.substring(0, word[0]));
        return word[0];
      } catch (PolicySyntaxException e) {
        // not the split: the word may be an argument, such as a user named http
      }
    }
    return -1;
  }

  private static final Pattern WORD = Pattern.compile("[^ \t]+");

  /**
   * Start and end of each word of {@code line}, up to a comment (a word that starts with {@code
   * #}), split as {@link PolicyRules} splits its lines.
   */
  private static List<int[]> words(String line) {
    List<int[]> words = new ArrayList<>();
    Matcher word = WORD.matcher(line);
    while (word.find() && line.charAt(word.start()) != '#') {
      words.add(new int[] {word.start(), word.end()});
    }
    return words;
  }

  private static Alternatives parsePart(String line, int split, int lineNumber) {
    List<int[]> words = words(line.substring(split));
    List<String> w = new ArrayList<>();
    for (int[] word : words) {
      w.add(line.substring(split + word[0], split + word[1]));
    }
    // w.get(0) is "http"
    int column = split + 1;
    if (w.size() == 2 && !w.get(1).startsWith("/")) {
      List<Part> preset = PRESETS.get(w.get(1));
      if (preset == null) {
        throw new PolicySyntaxException(
            "unknown preset '"
                + w.get(1)
                + "' (known: "
                + String.join(", ", PRESETS.keySet())
                + ")",
            lineNumber,
            split + words.get(1)[0] + 1);
      }
      return new Alternatives(w.get(1), preset);
    }
    if (w.size() != 3 && w.size() != 5) {
      throw new PolicySyntaxException(
          "expected 'http METHODS PATH [body CHECK]' or 'http PRESET'", lineNumber, column);
    }
    Set<String> methods = methods(w.get(1), lineNumber, split + words.get(1)[0] + 1);
    PathPattern path;
    try {
      path = PathPattern.parse(w.get(2));
    } catch (IllegalArgumentException e) {
      throw new PolicySyntaxException(e.getMessage(), lineNumber, split + words.get(2)[0] + 1);
    }
    Body body = Body.ANY;
    if (w.size() == 5) {
      int bodyColumn = split + words.get(3)[0] + 1;
      if (!w.get(3).equals("body")) {
        throw new PolicySyntaxException(
            "expected 'body', found '" + w.get(3) + "'", lineNumber, bodyColumn);
      }
      body =
          switch (w.get(4)) {
            case "unprivileged" -> Body.UNPRIVILEGED;
            case "privileged" -> Body.PRIVILEGED;
            default ->
                throw new PolicySyntaxException(
                    "unknown body check '" + w.get(4) + "' (known: unprivileged, privileged)",
                    lineNumber,
                    split + words.get(4)[0] + 1);
          };
      if (!path.text().equals(CONTAINER_CREATION) || !(methods.equals(Set.of("POST")))) {
        throw new PolicySyntaxException(
            "body checks apply to 'POST /containers/create' only", lineNumber, bodyColumn);
      }
    }
    Part part = new Part(methods, path, body);
    return new Alternatives(part.toString(), List.of(part));
  }

  private static Set<String> methods(String text, int line, int column) {
    if (text.equals("*")) {
      return Set.of();
    }
    Set<String> methods = new java.util.HashSet<>();
    for (String method : text.split(",", -1)) {
      if (method.isEmpty() || !method.chars().allMatch(c -> HttpHead.isTokenChar((char) c))) {
        throw new PolicySyntaxException(
            "invalid method list '" + text + "' (a comma list such as GET,HEAD, or *)",
            line,
            column);
      }
      methods.add(method);
    }
    return Set.copyOf(methods);
  }
}
