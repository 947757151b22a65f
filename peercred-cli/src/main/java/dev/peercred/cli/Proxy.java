package dev.peercred.cli;

import dev.peercred.Relay;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.UnixSocketAddress;
import dev.peercred.cli.http.HttpGuard;
import dev.peercred.cli.http.HttpRules;
import dev.peercred.policy.Audit;
import dev.peercred.policy.AuthorizingListener;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * An authorizing Unix-socket proxy: an {@link AuthorizingListener} decides each connection with the
 * caller's identity (every decision is a {@code dev.peercred.ConnectionDecision} event and an audit
 * log line, as for any listener), allowed connections are forwarded byte for byte to a backend
 * socket, refused ones get an immediate end of stream, and each connection gets one JSON audit
 * record when it ends.
 *
 * <p>Each allowed connection is served on the virtual thread {@link AuthorizingListener#serve}
 * gives it, which connects to the backend and hands both connections to a {@link Relay}: the bytes
 * cross on the relay's event loop, half-closes are passed on, a receiver that stops taking bytes
 * (as an HTTP server answering an error without reading the request does) ends only the direction
 * towards it, so what it sent is still delivered. A backend that cannot be reached is reported to
 * the client by closing its connection.
 *
 * <p>A client whose first bytes are {@link WhoamiProtocol#PROBE} gets the whoami answer instead of
 * being forwarded, allowed or not.
 */
final class Proxy {
  private static final System.Logger LOG = System.getLogger("dev.peercred.cli");

  /** How long a refused client has to send the whoami probe before it reads end of stream. */
  private static final Duration PROBE_WINDOW = Duration.ofMillis(500);

  private final AuthorizingListener listener;
  private final UnixSocketAddress backend;
  private final AuditLog audit;
  private final Duration connectTimeout;
  private final AtomicLong connections = new AtomicLong();
  private final AtomicInteger active = new AtomicInteger();
  private final String endpoint;

  /** The per-request rules in HTTP mode; null when whole connections are decided. */
  private volatile HttpRules httpRules;

  private final boolean auditOnly;

  /**
   * A proxy that decides whole connections with {@code policy}.
   *
   * @param listener where clients connect
   * @param backend where allowed connections are forwarded
   * @param policy decides each connection
   * @param audit receives one record per connection
   * @param connectTimeout how long to wait for a backend whose backlog is full
   */
  Proxy(
      UnixListener listener,
      UnixSocketAddress backend,
      Policy policy,
      AuditLog audit,
      Duration connectTimeout) {
    this(listener, backend, policy, null, false, audit, connectTimeout);
  }

  /**
   * A proxy that decides every HTTP request with {@code rules}: every connection is accepted (its
   * decision says so), and each request is decided by the rules.
   *
   * @param auditOnly forward requests the rules refuse, and record them as {@code would-deny}
   */
  Proxy(
      UnixListener listener,
      UnixSocketAddress backend,
      HttpRules rules,
      boolean auditOnly,
      AuditLog audit,
      Duration connectTimeout) {
    this(
        listener,
        backend,
        new HttpConnections(),
        Objects.requireNonNull(rules, "rules"),
        auditOnly,
        audit,
        connectTimeout);
  }

  private Proxy(
      UnixListener listener,
      UnixSocketAddress backend,
      Policy policy,
      HttpRules httpRules,
      boolean auditOnly,
      AuditLog audit,
      Duration connectTimeout) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
    this.httpRules = httpRules;
    this.auditOnly = auditOnly;
    this.listener = AuthorizingListener.builder(listener, policy).onRefusal(this::refused).build();
    this.endpoint = listener.localAddress().toString();
  }

  /** In HTTP mode every connection is let in; its requests are decided one by one. */
  private record HttpConnections() implements Policy {
    @Override
    public Decision evaluate(dev.peercred.PeerIdentity peer) {
      return Decision.allow("HTTP mode: each request is decided by the rules");
    }

    @Override
    public String toString() {
      return "http-requests";
    }
  }

  /** Puts {@code policy} in force for connections accepted from now on; live ones are untouched. */
  void setPolicy(Policy policy) {
    listener.setPolicy(policy);
  }

  /** Puts HTTP {@code rules} in force for connections accepted from now on. */
  void setHttpRules(HttpRules rules) {
    this.httpRules = Objects.requireNonNull(rules, "rules");
  }

  /** True in HTTP mode. */
  boolean decidesRequests() {
    return httpRules != null;
  }

  /** The listener, to close it (gracefully) from another thread. */
  AuthorizingListener listener() {
    return listener;
  }

  /** Accepts and serves connections until the listener is closed and every connection ended. */
  void run() {
    listener.serve(this::allowed);
  }

  /** The number of connections being served. */
  int activeConnections() {
    return active.get();
  }

  private void allowed(UnixConnection client, Decision decision) {
    session(client, decision, Session::forward);
  }

  private void refused(UnixConnection client, Decision decision) {
    session(client, decision, Session::refuse);
  }

  private void session(UnixConnection client, Decision decision, Consumer<Session> work) {
    Session session = new Session(client, decision);
    try {
      work.accept(session);
    } finally {
      session.end();
    }
  }

  /**
   * Watches a forwarded connection's first bytes for the whoami probe: stops the relay if they are
   * the probe, and otherwise gets out of the way.
   */
  private static final class ProbeInspector implements Relay.Inspector {
    /** Who inspects after the first bytes; null to pass everything. */
    private final Relay.Inspector next;

    /** Runs before the backend's end of stream is passed on to the client. */
    private final Runnable beforeServerEnd;

    private boolean decided;

    ProbeInspector(Relay.Inspector next, Runnable beforeServerEnd) {
      this.next = next;
      this.beforeServerEnd = beforeServerEnd;
    }

    @Override
    public void inspect(Relay.Side from, ByteBuffer bytes, Relay.Control control) {
      if (decided || from == Relay.Side.SERVER) {
        if (next == null) {
          control.pass(bytes.remaining());
        } else {
          next.inspect(from, bytes, control);
        }
        return;
      }
      byte[] first = new byte[Math.min(bytes.remaining(), WhoamiProtocol.PROBE.length)];
      bytes.get(bytes.position(), first);
      switch (WhoamiProtocol.match(first, first.length)) {
        case PROBE -> control.stop();
        case NOT_PROBE -> notProbe(from, bytes, control);
        case UNDECIDED -> {} // wait for more
      }
    }

    private void notProbe(Relay.Side from, ByteBuffer bytes, Relay.Control control) {
      decided = true;
      if (next == null) {
        control.passThrough();
      } else {
        next.inspect(from, bytes, control);
      }
    }

    @Override
    public void ended(Relay.Side from, Relay.Control control) {
      if (!decided && from == Relay.Side.CLIENT && next == null) {
        control.passThrough(); // the client ended within what could have been a probe
      } else if (next != null) {
        next.ended(from, control);
      }
      if (from == Relay.Side.SERVER) {
        beforeServerEnd.run();
      }
    }
  }

  /** One client connection, from its decision to its audit record. */
  private final class Session {
    final UnixConnection client;
    final Decision decision;
    final long id = connections.incrementAndGet();
    final Instant time = Instant.now();
    final long startNanos = System.nanoTime();
    final Map<String, Object> facts;

    /** {@link #facts} as JSON members, written once for all the requests of the connection. */
    final String factsJson;

    volatile UnixConnection server;
    final AtomicLong bytesIn = new AtomicLong(); // client to backend
    final AtomicLong bytesOut = new AtomicLong(); // backend to client
    volatile String error;
    volatile boolean whoami;

    /** HTTP requests recorded (on the relay's thread, then read by the session's). */
    volatile int requests;

    Session(UnixConnection client, Decision decision) {
      this.client = client;
      this.decision = decision;
      active.incrementAndGet();
      // What the audit record tells about the peer, read now, while the process surely exists.
      this.facts = IdentityFacts.describe(client.peerIdentity(), Json.object(), false);
      this.factsJson = httpRules != null ? Json.members(facts) : "";
    }

    /** Answers a whoami probe that arrives at once; everyone else reads end of stream. */
    void refuse() {
      try {
        client.setReadTimeout(PROBE_WINDOW);
        byte[] first = new byte[WhoamiProtocol.PROBE.length];
        int length = 0;
        InputStream in = client.inputStream();
        while (length < first.length) {
          int n = in.read(first, length, first.length - length);
          if (n < 0) {
            break;
          }
          length += n;
          if (WhoamiProtocol.match(first, length) != WhoamiProtocol.Match.UNDECIDED) {
            break;
          }
        }
        if (WhoamiProtocol.match(first, length) == WhoamiProtocol.Match.PROBE) {
          answerWhoami();
          return;
        }
      } catch (SocketTimeoutException e) {
        // The client sent nothing: nothing to answer.
      } catch (IOException e) {
        return;
      }
      client.refuse("");
    }

    private void answerWhoami() throws IOException {
      whoami = true;
      Map<String, Object> seen = Json.object();
      seen.put("server", "peercred proxy");
      IdentityFacts.describe(client.peerIdentity(), seen, true);
      seen.put("decision", decision.allowed() ? "allow" : "deny");
      byte[] reply =
          (WhoamiProtocol.REPLY_PREFIX + Json.write(seen) + "\n").getBytes(StandardCharsets.UTF_8);
      client.outputStream().write(reply);
      client.refuse("");
    }

    void forward() {
      try {
        server = UnixConnection.connect(backend, connectTimeout);
      } catch (IOException | RuntimeException e) {
        fail("backend " + backend + ": " + Main.describe(e));
        return;
      }
      HttpRules rules = httpRules;
      HttpGuard guard =
          rules == null
              ? null
              : new HttpGuard(
                  rules.forPeer(client.peerIdentity()),
                  "uid " + client.peerCredentials().uid(),
                  auditOnly,
                  this::recordRequest);
      // A client that reads the backend's end of stream finds its records written already.
      Relay.Result result = Relay.between(client, server, new ProbeInspector(guard, audit::flush));
      bytesIn.set(result.fromClient());
      bytesOut.set(result.fromServer());
      if (guard != null) {
        for (HttpGuard.Exchange unanswered : guard.unanswered()) {
          unanswered.endedEarly("the connection ended before the response did");
          recordRequest(unanswered);
        }
        if (guard.refused()) {
          client.refuse(""); // the refusal was sent: end of stream, without a reset
        }
      }
      result
          .failure()
          .ifPresent(
              e ->
                  fail(
                      e instanceof AsynchronousCloseException && !listener.isOpen()
                          ? "proxy stopping: grace period over"
                          : Main.describe(e)));
      if (result.stopped()) {
        server.close(); // the client asked who it is: the backend never sees the probe
        try {
          answerWhoami();
        } catch (IOException e) {
          // the client went away
        }
      }
    }

    void abort(String why) {
      if (why != null) {
        fail(why);
      }
      client.close();
      UnixConnection s = server;
      if (s != null) {
        s.close();
      }
    }

    private void fail(String message) {
      if (error == null) {
        error = message;
      }
    }

    /**
     * Writes the audit record, then closes both connections: a graceful stop, which waits for
     * connections to close, thereby waits for their records too.
     */
    void end() {
      try {
        writeAudit();
        audit.flush(); // this connection's records are out before it closes
      } catch (RuntimeException | Error e) {
        LOG.log(Level.ERROR, "connection " + id + ": cannot write its audit record", e);
      } finally {
        abort(null);
        active.decrementAndGet();
      }
    }

    /** One record per HTTP request, and its CommandDecision event. */
    void recordRequest(HttpGuard.Exchange exchange) {
      requests++;
      Json.ObjectWriter record = new Json.ObjectWriter();
      record.put("time", AuditLog.timestamp(time.plusNanos(exchange.startNanos() - startNanos)));
      record.put("connection", id);
      record.members(factsJson);
      exchange.describeTo(record::put);
      if (auditOnly) {
        record.put("audit_only", true);
      }
      record.put(
          "duration_ms",
          Math.round((System.nanoTime() - exchange.startNanos()) / 1_000.0) / 1_000.0);
      audit.writeLine(record.end());
      if (!exchange.finalDecision().allowed()) {
        audit.flush(); // refusals (and would-be refusals) are written at once
      }
      Audit.command(client.peerIdentity(), exchange.command(), exchange.finalDecision(), endpoint);
    }

    private void writeAudit() {
      if (httpRules != null && requests > 0 && error == null && !whoami) {
        return; // each request has its record
      }
      Map<String, Object> record = Json.object();
      record.put("time", time.toString());
      record.put("connection", id);
      record.putAll(facts);
      record.put("decision", decision.allowed() ? "allow" : "deny");
      record.put("reason", decision.reason());
      if (decision.outcome() == Decision.Outcome.ERROR) {
        record.put("policy_error", true);
      }
      if (whoami) {
        record.put("whoami", true);
      }
      if (error != null) {
        record.put("error", error);
      }
      record.put("bytes_in", bytesIn.get());
      record.put("bytes_out", bytesOut.get());
      record.put("duration_ms", Math.round((System.nanoTime() - startNanos) / 1_000.0) / 1_000.0);
      audit.write(record);
    }
  }
}
