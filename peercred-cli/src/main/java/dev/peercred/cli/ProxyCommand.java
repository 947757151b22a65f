package dev.peercred.cli;

import dev.peercred.AddressInUseException;
import dev.peercred.ListenerOptions;
import dev.peercred.SocketActivation;
import dev.peercred.SocketActivationException;
import dev.peercred.UnixListener;
import dev.peercred.UnixSocketAddress;
import dev.peercred.cli.http.HttpRules;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.System.Logger.Level;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code peercred proxy}: an authorizing Unix-socket proxy with an audit trail. */
final class ProxyCommand implements Command {
  private static final System.Logger LOG = System.getLogger("dev.peercred.cli");

  private static final Syntax.Arg<String> LISTEN =
      Syntax.option(
          "--listen",
          "PATH",
          Syntax::text,
          "socket to accept connections on (a path, or @name for an abstract socket); required"
              + " unless started by systemd socket activation");

  private static final Syntax.Arg<String> MODE =
      Syntax.option(
          "--mode",
          "OCTAL",
          Syntax::text,
          "permissions of the listening socket file, such as 0660 (connecting needs write"
              + " permission); default: 0777 minus the umask");

  private static final Syntax.Arg<String> OWNER =
      Syntax.option(
          "--owner",
          "USER",
          Syntax::text,
          "owner of the listening socket file, a user name or uid");

  private static final Syntax.Arg<String> GROUP =
      Syntax.option(
          "--group",
          "GROUP",
          Syntax::text,
          "group of the listening socket file, a group name or gid");

  private static final Syntax.Arg<String> TO =
      Syntax.option(
              "--to",
              "PATH",
              Syntax::text,
              "backend socket to forward allowed connections to (path or @name)")
          .required();

  private static final Syntax.Arg<Path> POLICY =
      Syntax.option("--policy", "FILE", Syntax::path, "policy file (see below)").required();

  private static final Syntax.Arg<Boolean> HTTP =
      Syntax.flag(
          "--http",
          "decide every HTTP request (keep-alive and pipelined ones included) instead of whole"
              + " connections: rules may end with 'http METHODS PATH', and a refused request gets a"
              + " 403 with a Docker-style JSON message; see docs/http-guard.md");

  private static final Syntax.Arg<Boolean> AUDIT_ONLY =
      Syntax.flag(
          "--audit-only",
          "with --http: forward every request, and record those the rules refuse as"
              + " 'would-deny' (to learn a rule file: see 'peercred rules-from-audit')");

  private static final Syntax.Arg<Path> AUDIT =
      Syntax.option(
          "--audit", "FILE", Syntax::path, "append audit lines to FILE instead of standard output");

  private static final Syntax.Arg<Duration> GRACE =
      Syntax.option(
              "--grace",
              "DURATION",
              DurationConverter::convert,
              "on SIGINT/SIGTERM, how long open connections may go on (default: {default})")
          .byDefault("5s");

  private static final Syntax.Arg<Duration> CONNECT_TIMEOUT =
      Syntax.option(
              "--connect-timeout",
              "DURATION",
              DurationConverter::convert,
              "how long to wait for a backend whose backlog is full before closing the client"
                  + " (default: {default})")
          .byDefault("5s");

  private static final Syntax SYNTAX =
      Syntax.command(
              "proxy",
              "Accept connections on a Unix socket, decide each with the caller's kernel-verified"
                  + " identity and a policy file, forward allowed ones to the backend socket,"
                  + " refuse the rest.",
              "One JSON audit line per connection goes to standard output (or --audit FILE) when it"
                  + " ends.",
              "SIGHUP reloads the policy (a bad one is reported and the old one stays in force) and"
                  + " reopens the audit file; live connections are not touched.",
              "SIGINT or SIGTERM stops accepting, lets open connections finish for --grace, removes"
                  + " the socket and exits 0.",
              "Started by systemd socket activation (LISTEN_FDS), it serves the passed socket: the"
                  + " only one, or the one named 'proxy'.",
              "A connection whose first bytes are the whoami probe is answered by the proxy itself"
                  + " (see 'peercred whoami').")
          .args(
              LISTEN,
              MODE,
              OWNER,
              GROUP,
              TO,
              POLICY,
              HTTP,
              AUDIT_ONLY,
              AUDIT,
              GRACE,
              CONNECT_TIMEOUT)
          .footer(
              "",
              "Policy file (docs/policies.md): one rule per line, the first that matches",
              "decides; no match denies unless the file ends with 'default allow'. A rule that",
              "cannot be checked (process gone, unknown name) never allows. For example:",
              "  deny uid 65534",
              "  allow group docker",
              "  allow user alice,bob",
              "  allow exe /usr/bin/docker",
              "",
              "Audit record fields: time, connection, pid, uid, user, gid, group, exe,",
              "  decision, reason, [policy_error], [whoami], [error], bytes_in (client to",
              "  backend), bytes_out, duration_ms.",
              "",
              "A backend that does not answer is not an error at start (it may come later);",
              "each allowed connection is then closed and audited with the error.")
          .exitCodes(
              "0:stopped by SIGINT or SIGTERM",
              "1:any other failure",
              "64:bad option or argument (EX_USAGE)",
              "65:policy file is not valid (EX_DATAERR)",
              "66:policy file missing or unreadable (EX_NOINPUT)",
              "73:listening socket or audit file cannot be created (EX_CANTCREAT)",
              "78:sockets passed by systemd are wrong (EX_CONFIG)");

  private String listen;
  private String mode;
  private String owner;
  private String group;
  private String to;
  private Path policy;
  private boolean http;
  private boolean auditOnly;
  private Path auditFile;
  private Duration grace;
  private Duration connectTimeout;

  @Override
  public Syntax syntax() {
    return SYNTAX;
  }

  @Override
  public int run(Syntax.Arguments args, PrintWriter out, PrintWriter err)
      throws Syntax.UsageException {
    listen = args.value(LISTEN);
    mode = args.value(MODE);
    owner = args.value(OWNER);
    group = args.value(GROUP);
    to = args.value(TO);
    policy = args.value(POLICY);
    http = args.flag(HTTP);
    auditOnly = args.flag(AUDIT_ONLY);
    auditFile = args.value(AUDIT);
    grace = args.value(GRACE);
    connectTimeout = args.value(CONNECT_TIMEOUT);
    try {
      return serve();
    } catch (Exit.Failure e) {
      err.println("peercred proxy: " + e.getMessage());
      return e.code;
    }
  }

  private int serve() throws Exit.Failure, Syntax.UsageException {
    boolean activated = SocketActivation.isInherited();
    ListenerOptions options = activated ? null : listenerOptions();
    UnixSocketAddress listenAddress = activated ? null : address("--listen", listen);
    UnixSocketAddress backend = address("--to", to);
    if (auditOnly && !http) {
      throw new Syntax.UsageException("--audit-only needs --http");
    }
    HttpRules rules = loadPolicy(policy, http);
    warnIfBackendMissing(backend);

    AuditLog audit;
    try {
      audit = auditFile == null ? AuditLog.toStandardOutput() : AuditLog.toFile(auditFile);
    } catch (IOException e) {
      throw new Exit.Failure(Exit.CANT_CREATE, "cannot open audit file " + auditFile + ": " + e);
    }

    UnixListener listener;
    try {
      listener = activated ? inheritedListener() : UnixListener.bind(listenAddress, options);
    } catch (SocketActivationException e) {
      audit.close();
      throw new Exit.Failure(Exit.CONFIG, "socket activation: " + e.getMessage());
    } catch (AddressInUseException e) {
      audit.close();
      throw new Exit.Failure(Exit.CANT_CREATE, Main.describe(e));
    } catch (IOException e) {
      audit.close();
      throw new Exit.Failure(
          Exit.CANT_CREATE, "cannot listen on " + listenAddress + ": " + Main.describe(e));
    }

    Proxy proxy =
        http
            ? new Proxy(listener, backend, rules, auditOnly, audit, connectTimeout)
            : new Proxy(listener, backend, rules.callerRules(), audit, connectTimeout);
    if (http) {
      quietAllowedRequests();
    }
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    Runnable stop =
        () -> {
          if (stopping.compareAndSet(false, true)) {
            Thread.ofPlatform()
                .name("proxy-stop")
                .start(
                    () -> {
                      proxy.listener().close(); // no new connections, socket file removed
                      LOG.log(
                          Level.INFO,
                          "stopping: no new connections; {0} open, grace {1}",
                          proxy.activeConnections(),
                          grace);
                      stopGracefully(proxy);
                      stopped.countDown();
                    });
          }
        };
    boolean signals = Signals.handle("TERM", stop) & Signals.handle("INT", stop);
    if (!signals) {
      // No signal API in this runtime: still remove the socket and finish on the way out.
      Runtime.getRuntime()
          .addShutdownHook(new Thread(() -> stopGracefully(proxy), "proxy-shutdown"));
      stopped.countDown();
    }
    boolean reload =
        Signals.handle(
            "HUP",
            () -> {
              reloadPolicy(proxy);
              try {
                audit.reopen();
              } catch (IOException e) {
                LOG.log(Level.ERROR, "cannot reopen audit file {0}: {1}", auditFile, e.toString());
              }
            });
    LOG.log(
        Level.INFO,
        "listening on {0}, forwarding to {1}, policy {2}{3}",
        listener.localAddress(),
        backend,
        policy,
        reload
            ? " (SIGHUP reloads it)"
            : " (SIGHUP is not handled: ignored since start, or no signal support here; no"
                + " reload)");

    proxy.run();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    audit.close();
    LOG.log(Level.INFO, "stopped");
    return Exit.OK;
  }

  /**
   * Stops accepting, lets open connections run for the grace period, then closes those left; each
   * connection's audit record is written before its connection counts as closed.
   */
  private void stopGracefully(Proxy proxy) {
    try {
      if (!proxy.listener().closeGracefully(grace)) {
        LOG.log(Level.WARNING, "closed the connections still open at the end of the grace period");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      proxy.listener().close();
    }
  }

  /** The one socket passed by systemd, or the one named "proxy" (FileDescriptorName=proxy). */
  private UnixListener inheritedListener() throws IOException, Syntax.UsageException {
    if (listen != null || mode != null || owner != null || group != null) {
      throw new Syntax.UsageException(
          "--listen, --mode, --owner and --group do not apply when systemd passes the socket"
              + " (LISTEN_FDS is set): set them in the .socket unit (ListenStream=, SocketMode=,"
              + " SocketUser=, SocketGroup=)");
    }
    List<String> names = SocketActivation.names();
    if (names.size() == 1) {
      return SocketActivation.listener(0);
    }
    return SocketActivation.listener("proxy");
  }

  private ListenerOptions listenerOptions() throws Syntax.UsageException {
    if (listen == null) {
      throw new Syntax.UsageException(
          "Missing required option: '--listen=PATH' (or start the proxy by systemd socket"
              + " activation)");
    }
    ListenerOptions options = ListenerOptions.defaults();
    if (mode != null) {
      int bits;
      try {
        bits = Integer.parseInt(mode, 8);
      } catch (NumberFormatException e) {
        bits = -1;
      }
      if (bits < 0 || bits > 0777) {
        throw new Syntax.UsageException(
            "invalid value for --mode: '" + mode + "' is not an octal mode from 0 to 0777");
      }
      options = options.withMode(bits);
    }
    if (owner != null) {
      options = withId(owner, "--owner", options::withOwner);
    }
    if (group != null) {
      options = withId(group, "--group", options::withGroup);
    }
    return options;
  }

  /** A user or group option (a name or an id) applied to the options, or a usage error. */
  private ListenerOptions withId(
      String text, String option, java.util.function.Function<String, ListenerOptions> apply)
      throws Syntax.UsageException {
    try {
      return apply.apply(text);
    } catch (IllegalArgumentException e) {
      throw new Syntax.UsageException("invalid value for " + option + ": " + e.getMessage());
    } catch (java.io.UncheckedIOException e) {
      throw new Syntax.UsageException(
          "cannot look up '" + text + "' for " + option + ": " + e.getCause().getMessage());
    }
  }

  private void reloadPolicy(Proxy proxy) {
    try {
      HttpRules rules = AccessRules.load(policy, http);
      if (http) {
        proxy.setHttpRules(rules);
      } else {
        proxy.setPolicy(rules.callerRules());
      }
      LOG.log(Level.INFO, "policy reloaded from {0}; it applies to new connections", policy);
    } catch (IOException | AccessRules.PolicyFileException e) {
      LOG.log(
          Level.ERROR,
          "policy reload failed, the previous policy stays in force: {0}",
          e instanceof IOException io ? describeIo(policy, io) : e.getMessage());
    }
  }

  static HttpRules loadPolicy(Path policy, boolean http) throws Exit.Failure {
    try {
      return AccessRules.load(policy, http);
    } catch (IOException e) {
      throw new Exit.Failure(Exit.NO_INPUT, describeIo(policy, e));
    } catch (AccessRules.PolicyFileException e) {
      throw new Exit.Failure(Exit.DATA, e.getMessage());
    }
  }

  /**
   * Held so that a level set on it sticks: {@code java.util.logging} keeps loggers only weakly, and
   * one collected before the audit first logs would come back at the default level.
   */
  private static final java.util.logging.Logger AUDIT_LOG =
      java.util.logging.Logger.getLogger(dev.peercred.policy.Audit.LOGGER_NAME);

  /**
   * In HTTP mode each request has its JSON audit record; the {@code dev.peercred.audit} log then
   * keeps only denials (on standard error), unless logging is configured by the user.
   */
  private static void quietAllowedRequests() {
    if (System.getProperty("java.util.logging.config.file") == null) {
      AUDIT_LOG.setLevel(java.util.logging.Level.WARNING);
    }
  }

  private static String describeIo(Path file, IOException e) {
    if (e instanceof NoSuchFileException) {
      return "policy file not found: " + file;
    }
    if (e instanceof AccessDeniedException) {
      return "policy file not readable (permission denied): " + file;
    }
    return "cannot read policy file " + file + ": " + Main.describe(e);
  }

  private void warnIfBackendMissing(UnixSocketAddress backend) {
    backend
        .path()
        .ifPresent(
            path -> {
              if (!Files.exists(path)) {
                LOG.log(
                    Level.WARNING,
                    "backend {0} does not exist yet; allowed connections are closed until it does",
                    path);
              }
            });
  }

  private UnixSocketAddress address(String option, String text) throws Syntax.UsageException {
    try {
      return UnixSocketAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw new Syntax.UsageException("invalid value for " + option + ": " + e.getMessage());
    }
  }
}
