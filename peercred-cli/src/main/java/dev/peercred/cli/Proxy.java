package dev.peercred.cli;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import dev.peercred.UnixSocketAddress;
import dev.peercred.policy.AuthorizingListener;
import dev.peercred.policy.Decision;
import dev.peercred.policy.Policy;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.net.SocketTimeoutException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
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
 * gives it, which connects to the backend and copies client to backend; a second virtual thread
 * copies backend to client. End of stream in one direction is passed on as a half-close ({@code
 * shutdown(SHUT_WR)}) and the other direction goes on; the connection ends when both directions
 * have ended. A receiver that stops taking bytes (it closed, as an HTTP server answering an error
 * without reading the request does) ends only the direction towards it: what it sent before is
 * still delivered the other way. A failure to read either side closes both, so no side is left
 * waiting. A backend that cannot be reached is reported to the client by closing its connection.
 *
 * <p>A client whose first bytes are {@link WhoamiProtocol#PROBE} gets the whoami answer instead of
 * being forwarded, allowed or not.
 */
final class Proxy {
  private static final System.Logger LOG = System.getLogger("dev.peercred.cli");

  /** Each direction starts with a small buffer and moves to a large one when a read fills it. */
  private static final int SMALL_BUFFER = 8 * 1024;

  private static final int LARGE_BUFFER = 128 * 1024;

  /** How long a refused client has to send the whoami probe before it reads end of stream. */
  private static final Duration PROBE_WINDOW = Duration.ofMillis(500);

  private final AuthorizingListener listener;
  private final UnixSocketAddress backend;
  private final AuditLog audit;
  private final Duration connectTimeout;
  private final AtomicLong connections = new AtomicLong();
  private final AtomicInteger active = new AtomicInteger();

  Proxy(
      UnixListener listener,
      UnixSocketAddress backend,
      Policy policy,
      AuditLog audit,
      Duration connectTimeout) {
    this.backend = Objects.requireNonNull(backend, "backend");
    this.audit = Objects.requireNonNull(audit, "audit");
    this.connectTimeout = Objects.requireNonNull(connectTimeout, "connectTimeout");
    this.listener = AuthorizingListener.builder(listener, policy).onRefusal(this::refused).build();
  }

  /** Puts {@code policy} in force for connections accepted from now on; live ones are untouched. */
  void setPolicy(Policy policy) {
    listener.setPolicy(policy);
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

  /** One client connection, from its decision to its audit record. */
  private final class Session {
    final UnixConnection client;
    final Decision decision;
    final long id = connections.incrementAndGet();
    final Instant time = Instant.now();
    final long startNanos = System.nanoTime();
    final Map<String, Object> facts;
    volatile UnixConnection server;
    final AtomicLong bytesIn = new AtomicLong(); // client to backend
    final AtomicLong bytesOut = new AtomicLong(); // backend to client
    volatile String error;
    volatile boolean whoami;

    Session(UnixConnection client, Decision decision) {
      this.client = client;
      this.decision = decision;
      active.incrementAndGet();
      // What the audit record tells about the peer, read now, while the process surely exists.
      this.facts = IdentityFacts.describe(client.peerIdentity(), Json.object(), false);
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
      Thread down =
          Thread.ofVirtual()
              .name("proxy-" + id + "-down")
              .start(() -> copy(server, client, bytesOut, "backend to client", false));
      copy(client, server, bytesIn, "client to backend", true);
      try {
        down.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        abort("interrupted");
      }
    }

    /**
     * Copies {@code from} to {@code to} until end of stream, which is passed on as a half-close. A
     * write that fails (the receiver stopped taking bytes) ends this direction only; a read that
     * fails ends both.
     */
    private void copy(
        UnixConnection from,
        UnixConnection to,
        AtomicLong counter,
        String direction,
        boolean fromClient) {
      byte[] buffer = new byte[SMALL_BUFFER];
      InputStream in = from.inputStream();
      int n;
      try {
        n = fromClient ? firstBytes(in, buffer) : in.read(buffer);
      } catch (IOException e) {
        readFailed(direction, e);
        return;
      }
      while (n > 0) {
        try {
          to.writeFully(buffer, 0, n);
        } catch (IOException receiverGone) {
          if (!(receiverGone instanceof ClosedChannelException)) {
            fail(direction + ": " + Main.describe(receiverGone));
          }
          try {
            from.shutdownInput(); // nothing more can be delivered; the other direction goes on
          } catch (IOException senderGone) {
            // the sender is gone too; its own direction reports that
          }
          return;
        }
        counter.addAndGet(n);
        if (n == buffer.length && buffer.length < LARGE_BUFFER) {
          buffer = new byte[LARGE_BUFFER]; // a bulk transfer: fewer, larger system calls
        }
        try {
          n = in.read(buffer);
        } catch (IOException e) {
          readFailed(direction, e);
          return;
        }
      }
      try {
        to.shutdownOutput();
      } catch (IOException e) {
        // The receiving side is gone; its own direction reports that.
      }
    }

    private void readFailed(String direction, IOException e) {
      if (whoami) {
        return; // the probe is being answered on the client connection
      }
      if (e instanceof AsynchronousCloseException && !listener.isOpen()) {
        fail("proxy stopping: grace period over"); // closed by closeGracefully at its deadline
      } else if (!(e instanceof ClosedChannelException)) {
        fail(direction + ": " + Main.describe(e));
      }
      abort(null);
    }

    /**
     * Reads the client's first bytes: answers a whoami probe (and returns -1, ending this
     * direction), or returns how many bytes of {@code buffer} are to be forwarded (-1 at end of
     * stream).
     */
    private int firstBytes(InputStream in, byte[] buffer) throws IOException {
      int length = 0;
      while (true) {
        int n = in.read(buffer, length, buffer.length - length);
        if (n < 0) {
          return length > 0 ? length : -1;
        }
        length += n;
        WhoamiProtocol.Match match = WhoamiProtocol.match(buffer, length);
        if (match == WhoamiProtocol.Match.PROBE) {
          whoami = true; // before closing the backend: its direction then leaves the client alone
          server.close();
          answerWhoami();
          return -1;
        }
        if (match == WhoamiProtocol.Match.NOT_PROBE) {
          return length;
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
      } catch (RuntimeException | Error e) {
        LOG.log(Level.ERROR, "connection " + id + ": cannot write its audit record", e);
      } finally {
        abort(null);
        active.decrementAndGet();
      }
    }

    private void writeAudit() {
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
