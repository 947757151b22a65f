package dev.peercred.cli;

import dev.peercred.PeerIdentity;
import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.UnixSocketAddress;
import dev.peercred.policy.Decision;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * An authorizing Unix-socket proxy: accepts connections on a listener, decides each with the
 * caller's identity, forwards allowed ones byte for byte to a backend socket, refuses the rest, and
 * writes one audit record per connection when it ends.
 *
 * <p>Each accepted connection gets a virtual thread that decides, connects to the backend and then
 * copies client to backend; a second virtual thread copies backend to client. End of stream in one
 * direction is passed on as a half-close ({@code shutdown(SHUT_WR)}) and the other direction goes
 * on; the connection ends when both directions have ended. An error in either direction (the
 * backend went away, the client reset) closes both sockets, so no side is ever left waiting. A
 * backend that cannot be reached is reported to the client by closing its connection.
 *
 * <p>Refused clients get no bytes and an immediate end of stream. A client whose first bytes are
 * {@link WhoamiProtocol#PROBE} gets the whoami answer instead of being forwarded.
 */
final class Proxy {
  private static final System.Logger LOG = System.getLogger("dev.peercred.cli");

  /** Each direction starts with a small buffer and moves to a large one when a read fills it. */
  private static final int SMALL_BUFFER = 8 * 1024;

  private static final int LARGE_BUFFER = 128 * 1024;

  /** How long a refused client has to send the whoami probe before it reads end of stream. */
  private static final Duration PROBE_WINDOW = Duration.ofMillis(500);

  private final UnixListener listener;
  private final UnixSocketAddress backend;
  private final AuditLog audit;
  private final Duration connectTimeout;
  private volatile Function<PeerIdentity, Decision> rules;
  private final Set<Session> sessions = ConcurrentHashMap.newKeySet();
  private final AtomicLong accepted = new AtomicLong();

  Proxy(
      UnixListener listener,
      UnixSocketAddress backend,
      Function<PeerIdentity, Decision> rules,
      AuditLog audit,
      Duration connectTimeout) {
    this.listener = Objects.requireNonNull(listener, "listener");
    this.backend = Objects.requireNonNull(backend, "backend");
    this.rules = Objects.requireNonNull(rules, "rules");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
  }

  /** Puts new rules in force for connections accepted from now on; live ones are not touched. */
  void setRules(Function<PeerIdentity, Decision> rules) {
    this.rules = Objects.requireNonNull(rules, "rules");
  }

  /** Accepts and serves connections until the listener is closed. */
  void run() {
    while (true) {
      UnixConnection client;
      try {
        client = listener.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (!listener.isOpen()) {
          return;
        }
        LOG.log(
            Level.WARNING, "accept failed on {0}: {1}", listener.localAddress(), e.getMessage());
        sleepQuietly(50); // EMFILE and friends: do not spin
        continue;
      }
      Session session = new Session(client, accepted.incrementAndGet());
      sessions.add(session);
      Thread.ofVirtual().name("proxy-" + session.id).start(session::serve);
    }
  }

  /** The number of connections being served. */
  int activeConnections() {
    return sessions.size();
  }

  /** Stops accepting; closing the listener removes its socket file. */
  void stopAccepting() {
    listener.close();
  }

  /**
   * Stops accepting (closing the listener removes its socket file), waits up to {@code grace} for
   * the connections being served to end, then closes those still open and waits briefly for their
   * audit records. Returns the number of connections that had to be closed.
   */
  int stop(Duration grace) {
    listener.close();
    long deadline = System.nanoTime() + grace.toNanos();
    while (!sessions.isEmpty() && System.nanoTime() < deadline) {
      sleepQuietly(20);
    }
    int forced = 0;
    for (Session session : sessions) {
      session.abort("proxy stopping: grace period over");
      forced++;
    }
    long auditDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (!sessions.isEmpty() && System.nanoTime() < auditDeadline) {
      sleepQuietly(10);
    }
    return forced;
  }

  private static void sleepQuietly(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One client connection, from accept to its audit record. */
  private final class Session {
    final UnixConnection client;
    final long id;
    final Instant time = Instant.now();
    final long startNanos = System.nanoTime();
    volatile UnixConnection server;
    final AtomicLong bytesIn = new AtomicLong(); // client to backend
    final AtomicLong bytesOut = new AtomicLong(); // backend to client
    volatile String error;
    volatile boolean whoami;

    Session(UnixConnection client, long id) {
      this.client = client;
      this.id = id;
    }

    void serve() {
      PeerIdentity peer = client.peerIdentity();
      Decision decision;
      try {
        decision = rules.apply(peer);
        if (decision == null) {
          decision = Decision.error("policy gave no decision");
        }
      } catch (RuntimeException e) {
        decision = Decision.error("policy failed: " + e);
      }
      // Read what the audit record tells about the peer now, while the process surely exists.
      Map<String, Object> facts = IdentityFacts.describe(peer, Json.object(), false);
      try {
        if (decision.allowed()) {
          forward(peer, decision);
        } else {
          refuse(peer, decision);
        }
      } catch (RuntimeException | Error e) {
        fail("internal error: " + e);
        LOG.log(Level.ERROR, "connection " + id + " failed", e);
      } finally {
        client.close();
        UnixConnection s = server;
        if (s != null) {
          s.close();
        }
        writeAudit(facts, decision);
        sessions.remove(this);
      }
    }

    private void refuse(PeerIdentity peer, Decision decision) {
      // Answer a whoami probe if it arrives at once; everyone else reads end of stream.
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
          answerWhoami(peer, decision);
          return;
        }
      } catch (SocketTimeoutException e) {
        // The client sent nothing: nothing to answer.
      } catch (IOException e) {
        return;
      }
      client.refuse("");
    }

    private void answerWhoami(PeerIdentity peer, Decision decision) throws IOException {
      whoami = true;
      Map<String, Object> seen = Json.object();
      seen.put("server", "peercred proxy");
      IdentityFacts.describe(peer, seen, true);
      seen.put("decision", decision.allowed() ? "allow" : "deny");
      byte[] reply =
          (WhoamiProtocol.REPLY_PREFIX + Json.write(seen) + "\n").getBytes(StandardCharsets.UTF_8);
      client.outputStream().write(reply);
      client.refuse("");
    }

    private void forward(PeerIdentity peer, Decision decision) {
      try {
        server = UnixConnection.connect(backend, connectTimeout);
      } catch (IOException | RuntimeException e) {
        fail("backend " + backend + ": " + Main.describe(e));
        return;
      }
      Thread down =
          Thread.ofVirtual()
              .name("proxy-" + id + "-down")
              .start(() -> pump(server, client, bytesOut, false, peer, decision));
      pump(client, server, bytesIn, true, peer, decision);
      try {
        down.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Copies {@code from} to {@code to} until end of stream or an error. */
    private void pump(
        UnixConnection from,
        UnixConnection to,
        AtomicLong counter,
        boolean fromClient,
        PeerIdentity peer,
        Decision decision) {
      byte[] buffer = new byte[SMALL_BUFFER];
      InputStream in = from.inputStream();
      OutputStream out = to.outputStream();
      try {
        if (fromClient && !firstBytes(in, out, buffer, counter, peer, decision)) {
          return;
        }
        int n;
        while ((n = in.read(buffer)) > 0) {
          try {
            out.write(buffer, 0, n);
          } catch (IOException receiverGone) {
            // The receiver stopped taking bytes (it closed without reading everything, as an HTTP
            // server answering an error does). Only this direction ends: what the receiver sent
            // before it closed is still on its way the other way, and that pump delivers it.
            if (!(receiverGone instanceof ClosedChannelException)) {
              fail(
                  (fromClient ? "client to backend: " : "backend to client: ")
                      + Main.describe(receiverGone));
            }
            try {
              from.shutdownInput();
            } catch (IOException alreadyGone) {
              // the sender is gone too; its own direction reports that
            }
            return;
          }
          counter.addAndGet(n);
          if (n == buffer.length && buffer.length < LARGE_BUFFER) {
            buffer = new byte[LARGE_BUFFER]; // a bulk transfer: fewer, larger system calls
          }
        }
        try {
          to.shutdownOutput();
        } catch (IOException e) {
          // The receiving side is gone; its own direction reports that.
        }
      } catch (IOException e) {
        if (whoami) {
          return; // the other thread is answering the probe on the client connection
        }
        if (!(e instanceof ClosedChannelException)) {
          fail((fromClient ? "client to backend: " : "backend to client: ") + Main.describe(e));
        }
        from.close();
        to.close();
      }
    }

    /**
     * Handles the client's first bytes: answers a whoami probe (and returns false), or forwards
     * them and returns true.
     */
    private boolean firstBytes(
        InputStream in,
        OutputStream out,
        byte[] buffer,
        AtomicLong counter,
        PeerIdentity peer,
        Decision decision)
        throws IOException {
      int length = 0;
      while (true) {
        int n = in.read(buffer, length, buffer.length - length);
        if (n < 0) {
          break;
        }
        length += n;
        WhoamiProtocol.Match match = WhoamiProtocol.match(buffer, length);
        if (match == WhoamiProtocol.Match.PROBE) {
          whoami = true; // before closing the backend: its pump then leaves the client alone
          server.close();
          answerWhoami(peer, decision);
          return false;
        }
        if (match == WhoamiProtocol.Match.NOT_PROBE) {
          break;
        }
      }
      if (length > 0) {
        out.write(buffer, 0, length);
        counter.addAndGet(length);
      }
      return true; // at end of stream the caller's next read sees it again
    }

    void abort(String why) {
      fail(why);
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

    private void writeAudit(Map<String, Object> facts, Decision decision) {
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
