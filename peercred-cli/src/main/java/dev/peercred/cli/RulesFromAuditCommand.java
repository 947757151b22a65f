package dev.peercred.cli;

import dev.peercred.cli.http.HttpRules;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code peercred rules-from-audit AUDIT...}: the smallest rule file that allows every HTTP request
 * an audit trail shows, one {@code allow uid N http METHODS PATH} line per caller and endpoint. The
 * usual way to write rules for an existing setup: run {@code peercred proxy --http --audit-only}
 * for a while, then read the rules off its audit trail, check them, and enforce.
 */
final class RulesFromAuditCommand implements Command {
  private static final Syntax.Arg<Path> FILES =
      Syntax.parameter("AUDIT", Syntax::path, "audit files (JSON lines)").repeatable();

  private static final Syntax SYNTAX =
      Syntax.command(
              "rules-from-audit",
              "Print the smallest policy file that allows every HTTP request recorded in the audit"
                  + " files (from 'peercred proxy --http', best with --audit-only): one rule per"
                  + " caller uid and endpoint, methods merged, with the count of requests seen.",
              "The second segment of Docker resource paths (/containers/ID/..., /images/NAME/...,"
                  + " /exec/ID/... and the like) becomes {id}, so that one rule covers every"
                  + " container; read the rules before you enforce them.")
          .args(FILES)
          .exitCodes(
              "0:rules printed",
              "65:an audit line is not a JSON object (EX_DATAERR)",
              "66:an audit file is missing or unreadable (EX_NOINPUT)");

  /** Resources whose second path segment names one of them. */
  private static final Set<String> RESOURCES =
      Set.of(
          "containers",
          "images",
          "networks",
          "volumes",
          "exec",
          "services",
          "tasks",
          "nodes",
          "secrets",
          "configs",
          "plugins",
          "distribution");

  /** Second segments that are endpoints of their own, not resource names. */
  private static final Set<String> LITERALS =
      Set.of("json", "create", "prune", "load", "search", "get", "pull", "privileges");

  /** What one caller asked of one endpoint. */
  private static final class Seen {
    final Set<String> methods = new TreeSet<>();
    long requests;
    String user;

    /** Container creations by what their bodies asked of the host, as the audit recorded it. */
    long unprivileged;

    long privileged;
    long unrecorded;
    final Set<String> hostAccess = new TreeSet<>();

    void creation(Object hostAccess) {
      if (!(hostAccess instanceof List<?> access)) {
        unrecorded++; // not read (no body rule, not audit-only) or unreadable
      } else if (access.isEmpty()) {
        unprivileged++;
      } else {
        privileged++;
        access.forEach(a -> this.hostAccess.add(String.valueOf(a)));
      }
    }
  }

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err) {
    List<Path> files = args.values(FILES);
    SortedMap<Long, SortedMap<String, Seen>> byCaller = new TreeMap<>();
    for (Path file : files) {
      List<String> lines;
      try {
        lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        return fail(err, Exit.NO_INPUT, "audit file not found: " + file);
      } catch (IOException e) {
        return fail(err, Exit.NO_INPUT, "cannot read " + file + ": " + Main.describe(e));
      }
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.isEmpty()) {
          continue;
        }
        Object parsed;
        try {
          parsed = Json.parse(line);
        } catch (IllegalArgumentException e) {
          return fail(err, Exit.DATA, file + ":" + (i + 1) + ": " + e.getMessage());
        }
        if (!(parsed instanceof Map<?, ?> record)) {
          return fail(err, Exit.DATA, file + ":" + (i + 1) + ": not a JSON object");
        }
        if (!(record.get("method") instanceof String method)
            || !(record.get("route") instanceof String route)
            || !(record.get("uid") instanceof Number uid)) {
          continue; // a connection record, or a request refused before it could be read
        }
        Seen seen =
            byCaller
                .computeIfAbsent(uid.longValue(), u -> new TreeMap<>())
                .computeIfAbsent(pattern(route), p -> new Seen());
        if (HttpRules.isContainerCreation(method, route)) {
          seen.creation(record.get("host_access"));
        } else {
          seen.methods.add(method);
          seen.requests++;
        }
        if (record.get("user") instanceof String user) {
          seen.user = user;
        }
      }
    }
    out.println("# rules from " + String.join(", ", files.stream().map(Path::toString).toList()));
    for (var caller : byCaller.entrySet()) {
      for (var endpoint : caller.getValue().entrySet()) {
        Seen seen = endpoint.getValue();
        if (endpoint.getKey().startsWith(UNWRITABLE)) {
          out.println(
              "# uid "
                  + caller.getKey()
                  + " "
                  + String.join(",", seen.methods)
                  + " "
                  + Text.printable(endpoint.getKey().substring(UNWRITABLE.length()))
                  + ": no rule can name this path; write one by hand if it is needed");
          continue;
        }
        String uid = "allow uid " + caller.getKey() + " http ";
        if (!seen.methods.isEmpty()) {
          out.println(
              uid
                  + String.join(",", seen.methods)
                  + " "
                  + endpoint.getKey()
                  + comment(seen.requests, seen.user, ""));
        }
        long unprivileged = seen.unprivileged + seen.unrecorded;
        if (unprivileged > 0) {
          out.println(
              uid
                  + "POST "
                  + HttpRules.CONTAINER_CREATION
                  + " body unprivileged"
                  + comment(
                      unprivileged,
                      seen.user,
                      seen.unrecorded == 0
                          ? ""
                          : "; "
                              + seen.unrecorded
                              + " with bodies not recorded (--audit-only records them)"));
        }
        if (seen.privileged > 0) {
          out.println(
              "# uid "
                  + caller.getKey()
                  + " POST "
                  + HttpRules.CONTAINER_CREATION
                  + ": "
                  + seen.privileged
                  + (seen.privileged == 1 ? " request asked" : " requests asked")
                  + " for host access ("
                  + Text.printable(String.join(", ", seen.hostAccess))
                  + "); to allow that on purpose: "
                  + uid
                  + "POST "
                  + HttpRules.CONTAINER_CREATION
                  + " body privileged");
        }
      }
    }
    out.flush();
    return Exit.OK;
  }

  private static String comment(long requests, String user, String more) {
    return "   # "
        + requests
        + (requests == 1 ? " request" : " requests")
        + (user == null ? "" : ", user " + user)
        + more;
  }

  /** Marks a route no path pattern can name (its characters mean something in patterns). */
  private static final String UNWRITABLE = "!";

  /**
   * The rule path for {@code route}: a resource's name or id becomes {@code {id}}; a route with
   * characters that mean something in a pattern ({@code {}}, {@code *}, {@code %}) is returned
   * marked {@link #UNWRITABLE}.
   */
  static String pattern(String route) {
    if (!route.matches("/[A-Za-z0-9._~!$&'()+,;=:@/-]*")) {
      return UNWRITABLE + route;
    }
    String[] segments = route.substring(1).split("/", -1);
    if (segments.length >= 2
        && RESOURCES.contains(segments[0])
        && !LITERALS.contains(segments[1])) {
      segments[1] = "{id}";
    }
    return "/" + String.join("/", segments);
  }

  private static int fail(PrintWriter err, int code, String message) {
    err.println("peercred rules-from-audit: " + message);
    return code;
  }
}
