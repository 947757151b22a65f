package dev.peercred.cli.http;

import dev.peercred.Relay;
import dev.peercred.Relay.Control;
import dev.peercred.Relay.Side;
import dev.peercred.cli.Json;
import dev.peercred.policy.Decision;
import dev.peercred.policy.PolicyRules;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Decides every HTTP request of one connection before it reaches the backend, as a {@link Relay}
 * inspector: each request head is parsed strictly, canonicalized and matched against the rules; an
 * allowed request crosses with its body, a refused one never does. The backend's responses are
 * followed too, to know where each ends, to answer refusals in order after the responses to the
 * requests before them, and to let a connection become a byte stream only after an allowed request
 * to switch protocols and the backend's agreement ({@code 101}, or Docker's hijacked attach and
 * exec streams).
 *
 * <p>A refused request (malformed or ambiguous: 400, 431, 501, 505; not allowed: 403; a body too
 * large to check: 413) is answered with a Docker-style JSON error, {@code {"message": "peercred:
 * ..."}}, once every earlier response has been delivered, and the connection is then closed: its
 * later bytes are never read. Nothing falls back to passing bytes it has not parsed.
 *
 * <p>In audit-only mode, requests the rules refuse are forwarded anyway and recorded with the
 * decision {@code would-deny}; requests that cannot be parsed are still refused, since where they
 * end is unknown.
 */
public final class HttpGuard implements Relay.Inspector {
  /** The largest response head followed; a larger one ends the connection. */
  private static final int MAX_RESPONSE_HEAD = 64 * 1024;

  private static final byte[] CONTINUE =
      "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** Requests whose answer may turn the connection into a stream even without Upgrade. */
  private static final Pattern HIJACKING =
      Pattern.compile("/containers/[^/]+/attach|/exec/[^/]+/start");

  /** Receives one record per request, when its response has ended or it was refused. */
  public interface Recorder {
    /**
     * Records the outcome of one request.
     *
     * @param exchange the request and what became of it
     */
    void record(Exchange exchange);
  }

  /** One request and what became of it, for the audit record. */
  public static final class Exchange {
    final long number;
    final String method;
    final String path;
    final PolicyRules.Verdict verdict;
    final String ruleText;
    final boolean wouldDeny;
    final long startNanos = System.nanoTime();
    final boolean mayHijack;
    final boolean headRequest;
    final Request request;
    long requestBytes;
    long responseBytes;
    int status;
    String problem;

    /** What the body asked of the host, when it was read (a body rule, or audit-only mode). */
    HttpRules.BodyFacts body;

    Exchange(
        long number,
        Request request,
        PolicyRules.Verdict verdict,
        String ruleText,
        boolean wouldDeny) {
      this.number = number;
      this.request = request;
      this.method = request == null ? null : request.method();
      this.path = request == null ? null : request.path().path();
      this.verdict = verdict;
      this.ruleText = ruleText;
      this.wouldDeny = wouldDeny;
      this.headRequest = request != null && request.method().equals("HEAD");
      this.mayHijack = request != null && (request.upgrade() || hijacking(request.path().route()));
    }

    private static boolean hijacking(String route) {
      // the pattern only for routes that can match it: most requests skip the regex
      return (route.startsWith("/containers/") || route.startsWith("/exec/"))
          && HIJACKING.matcher(route).matches();
    }

    /** What the rules decided; null for a request refused before any rule was consulted. */
    PolicyRules.Verdict verdict() {
      return verdict;
    }

    /** When the request's head was read, as {@link System#nanoTime()}. */
    public long startNanos() {
      return startNanos;
    }

    /** Notes why the request got no complete answer, unless something else already explains it. */
    public void endedEarly(String why) {
      if (problem == null) {
        problem = why;
      }
    }

    /** The decision about this request: the rules', or a denial for a request refused unread. */
    public Decision finalDecision() {
      return verdict != null ? verdict.decision() : Decision.deny(problem);
    }

    /** The request as an audit event names it: {@code GET /containers/json}. */
    public String command() {
      return method == null ? "(unparsed request)" : method + " " + request.path().route();
    }

    /**
     * Gives this request's audit fields to {@code field}, in order: request (its number on the
     * connection), method, path, route, rule, [host_access or body_unreadable], reason, decision,
     * status, [error], bytes_in, bytes_out.
     */
    public void describeTo(BiConsumer<String, Object> field) {
      field.accept("request", number);
      if (method != null) {
        field.accept("method", method);
        field.accept("path", path);
        field.accept("route", request.path().route());
        field.accept("rule", ruleText);
      }
      if (body != null && body.hostAccess() != null) {
        field.accept("host_access", body.hostAccess());
      } else if (body != null) {
        field.accept("body_unreadable", body.unreadable());
      }
      field.accept("reason", finalDecision().reason());
      field.accept("decision", decision());
      field.accept("status", status);
      if (problem != null && method != null) {
        field.accept("error", problem);
      }
      field.accept("bytes_in", requestBytes);
      field.accept("bytes_out", responseBytes);
    }

    /** The decision as the audit record names it: allow, deny or would-deny. */
    String decision() {
      if (wouldDeny) {
        return "would-deny";
      }
      return verdict != null && verdict.decision().allowed() ? "allow" : "deny";
    }
  }

  private enum ClientState {
    HEAD,
    BODY,
    BODY_BUFFER,
    WAIT_FOR_ANSWER,
    REFUSED
  }

  private enum ServerState {
    HEAD,
    BODY,
    UNTIL_CLOSE
  }

  private final HttpRules.ForPeer rules;
  private final Recorder recorder;
  private final boolean auditOnly;
  private final String caller;

  private ClientState client = ClientState.HEAD;
  private int headScanned;
  private MessageBody requestBody;
  private byte[] buffered;
  private int bufferedLength;
  private int bufferedHead;
  private Request bufferedRequest;
  private long requests;
  private byte[] refusal;
  private Exchange refused;

  private ServerState server = ServerState.HEAD;
  private int responseScanned;
  private MessageBody responseBody;
  private final ArrayDeque<Exchange> outstanding = new ArrayDeque<>();

  /**
   * A guard for one connection.
   *
   * @param rules the rules with this connection's caller decided
   * @param caller how refusals name the caller, such as {@code uid 65534}
   * @param auditOnly forward what the rules refuse, and record it as {@code would-deny}
   * @param recorder receives one record per request
   */
  public HttpGuard(HttpRules.ForPeer rules, String caller, boolean auditOnly, Recorder recorder) {
    this.rules = rules;
    this.caller = caller;
    this.auditOnly = auditOnly;
    this.recorder = recorder;
  }

  /**
   * Requests forwarded whose response has not ended: recorded with no status when the relay ends.
   */
  public List<Exchange> unanswered() {
    List<Exchange> left = new java.util.ArrayList<>(outstanding);
    if (refusal != null) {
      left.add(refused); // refused, but the connection ended before the refusal went out
    }
    return left;
  }

  /** True if a request was refused: the connection ended with the refusal. */
  public boolean refused() {
    return client == ClientState.REFUSED;
  }

  @Override
  public void inspect(Side from, ByteBuffer bytes, Control control) {
    if (from == Side.CLIENT) {
      fromClient(bytes, control);
    } else {
      fromServer(bytes, control);
    }
  }

  // ------------------------------------------------------------------ requests

  private void fromClient(ByteBuffer bytes, Control control) {
    int at = bytes.position();
    int end = bytes.limit();
    while (at < end) {
      switch (client) {
        case HEAD -> {
          ByteBuffer rest = bytes.duplicate().position(at);
          int length = HttpHead.end(rest, headScanned);
          if (length < 0) {
            if (end - at > HttpHead.MAX_LENGTH) {
              refuse(
                  new HttpException(431, "request head over " + HttpHead.MAX_LENGTH + " bytes"),
                  control);
              return;
            }
            headScanned = end - at;
            return; // wait for the rest of the head
          }
          headScanned = 0;
          if (length > HttpHead.MAX_LENGTH) {
            refuse(
                new HttpException(431, "request head over " + HttpHead.MAX_LENGTH + " bytes"),
                control);
            return;
          }
          Request request;
          try {
            request = Request.parse(rest, length);
          } catch (HttpException e) {
            refuse(e, control);
            return;
          }
          if (!request.framing().hasBody() || !readsBody(request)) {
            if (!admit(request, null, control)) {
              return;
            }
            control.pass(length);
            at += length;
            startBody(request, control);
          } else {
            if (request.framing().kind() == HttpHead.Framing.Kind.LENGTH
                && request.framing().length() > ContainerBody.MAX_LENGTH) {
              refuse(
                  new HttpException(
                      413,
                      "a body the rules must check is over " + ContainerBody.MAX_LENGTH + " bytes"),
                  control);
              return;
            }
            bufferedRequest = request;
            buffered = new byte[Math.max(length * 2, 8192)];
            bufferedLength = 0;
            bufferedHead = length;
            keep(bytes, at, length);
            control.drop(length);
            at += length;
            requestBody = new MessageBody(request.framing());
            client = ClientState.BODY_BUFFER;
            if (request.head().hasToken("Expect", "100-continue")) {
              control.send(Side.CLIENT, ByteBuffer.wrap(CONTINUE)); // the body is read here first
            }
          }
        }
        case BODY -> {
          int n;
          try {
            n = requestBody.follow(bytes, at, end - at);
          } catch (HttpException e) {
            // Part of the body has crossed already: the connection cannot be answered cleanly.
            current().problem = e.getMessage();
            control.stop();
            return;
          }
          control.pass(n);
          current().requestBytes += n;
          at += n;
          if (requestBody.isDone()) {
            requestEnded(control);
          }
        }
        case BODY_BUFFER -> {
          int n;
          try {
            n = requestBody.follow(bytes, at, end - at);
          } catch (HttpException e) {
            refuse(e, control);
            return;
          }
          if (bufferedLength - bufferedHead + n > ContainerBody.MAX_LENGTH + 64 * 1024) {
            refuse(
                new HttpException(
                    413,
                    "a body the rules must check is over " + ContainerBody.MAX_LENGTH + " bytes"),
                control);
            return;
          }
          keep(bytes, at, n);
          control.drop(n);
          at += n;
          if (requestBody.isDone()) {
            if (!admitBuffered(control)) {
              return;
            }
          }
        }
        case WAIT_FOR_ANSWER, REFUSED -> {
          control.hold(Side.CLIENT);
          return;
        }
      }
    }
  }

  /**
   * Whether {@code request}'s body is read before it is decided: when a rule needs it, and in
   * audit-only mode for every container creation, so that the audit trail records what each asked
   * of the host and rules learned from it can keep the {@code body unprivileged} check.
   */
  private boolean readsBody(Request request) {
    return rules.needsBody(request) || (auditOnly && ContainerBody.isCreation(request));
  }

  /** Decides {@code request}; false if it is refused (then nothing more is read). */
  private boolean admit(Request request, HttpRules.BodyFacts body, Control control) {
    PolicyRules.Verdict verdict = rules.decide(request, body);
    String ruleText = verdict.rule().map(rules::text).orElse(null);
    boolean allowed = verdict.decision().allowed();
    Exchange exchange = new Exchange(++requests, request, verdict, ruleText, !allowed && auditOnly);
    exchange.body = body;
    if (!allowed && !auditOnly) {
      String why = shortReason(verdict.decision());
      if (body != null && body.hostAccess() != null && !body.hostAccess().isEmpty()) {
        why += ": the body asks for " + String.join(", ", body.hostAccess());
      } else if (body != null && body.unreadable() != null) {
        why += ": the body cannot be checked: " + body.unreadable();
      }
      refusal(
          exchange,
          403,
          caller + " may not " + request.method() + " " + request.path().route() + " (" + why + ")",
          control);
      return false;
    }
    outstanding.add(exchange);
    exchange.requestBytes = request.head().length();
    return true;
  }

  private boolean admitBuffered(Control control) {
    Request request = bufferedRequest;
    byte[] body = Arrays.copyOfRange(buffered, bufferedHead, bufferedLength);
    HttpRules.BodyFacts facts;
    try {
      byte[] content = requestBody.isChunked() ? ChunkedBody.decode(body) : body;
      facts = new HttpRules.BodyFacts(ContainerBody.hostAccess(content, content.length), null);
    } catch (ContainerBody.UnreadableException | HttpException e) {
      facts = new HttpRules.BodyFacts(null, e.getMessage());
    }
    if (!admit(request, facts, control)) {
      return false;
    }
    control.send(Side.SERVER, ByteBuffer.wrap(buffered, 0, bufferedLength));
    current().requestBytes = bufferedLength;
    buffered = null;
    bufferedRequest = null;
    requestEnded(control);
    return true;
  }

  private void keep(ByteBuffer bytes, int at, int n) {
    if (buffered.length - bufferedLength < n) {
      buffered = Arrays.copyOf(buffered, Math.max(buffered.length * 2, bufferedLength + n));
    }
    bytes.get(at, buffered, bufferedLength, n);
    bufferedLength += n;
  }

  private void startBody(Request request, Control control) {
    HttpHead.Framing framing = request.framing();
    if (!framing.hasBody()) {
      requestEnded(control);
      return;
    }
    requestBody = new MessageBody(framing);
    client = ClientState.BODY;
  }

  /** The request has crossed whole: wait for its answer if it may switch protocols. */
  private void requestEnded(Control control) {
    requestBody = null;
    if (current().mayHijack) {
      client = ClientState.WAIT_FOR_ANSWER;
      control.hold(Side.CLIENT);
    } else {
      client = ClientState.HEAD;
    }
  }

  private Exchange current() {
    return outstanding.peekLast();
  }

  private void refuse(HttpException problem, Control control) {
    Exchange exchange = new Exchange(++requests, null, null, null, false);
    refusal(exchange, problem.status(), "bad request: " + problem.getMessage(), control);
  }

  /**
   * Refuses with {@code status}: nothing more is read from the client, and the answer goes out once
   * every earlier response has.
   */
  private void refusal(Exchange exchange, int status, String message, Control control) {
    client = ClientState.REFUSED;
    control.hold(Side.CLIENT);
    exchange.status = status;
    exchange.problem = message;
    refused = exchange;
    byte[] body =
        ("{\"message\":" + Json.quote("peercred: " + message) + "}\n")
            .getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 "
            + status
            + " "
            + reasonPhrase(status)
            + "\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
    refusal = Arrays.copyOf(headBytes, headBytes.length + body.length);
    System.arraycopy(body, 0, refusal, headBytes.length, body.length);
    sendRefusalIfDue(control);
  }

  private void sendRefusalIfDue(Control control) {
    if (refusal != null && outstanding.isEmpty()) {
      control.send(Side.CLIENT, ByteBuffer.wrap(refusal));
      refusal = null;
      recorder.record(refused); // after the records of the requests before it
      control.finish();
    }
  }

  // ------------------------------------------------------------------ responses

  private void fromServer(ByteBuffer bytes, Control control) {
    int at = bytes.position();
    int end = bytes.limit();
    while (at < end) {
      Exchange exchange = outstanding.peekFirst();
      switch (server) {
        case HEAD -> {
          ByteBuffer rest = bytes.duplicate().position(at);
          int length = HttpHead.end(rest, responseScanned);
          if (length < 0) {
            if (end - at > MAX_RESPONSE_HEAD) {
              backendFailed(
                  exchange, "a response head over " + MAX_RESPONSE_HEAD + " bytes", control);
              return;
            }
            responseScanned = end - at;
            return;
          }
          responseScanned = 0;
          if (exchange == null) {
            backendFailed(null, "a response to no request", control);
            return;
          }
          Response response;
          try {
            response = Response.parse(rest, length);
          } catch (HttpException e) {
            backendFailed(exchange, "a malformed response: " + e.getMessage(), control);
            return;
          }
          control.pass(length);
          at += length;
          exchange.responseBytes += length;
          if (response.isInterim()) {
            continue; // 100 Continue and friends: the final head follows
          }
          exchange.status = response.status();
          if (response.switchesToStream() && exchange.mayHijack) {
            outstanding.pollFirst();
            recorder.record(exchange);
            control.passThrough(); // the backend agreed: from now on a byte stream both ways
            return;
          }
          if (response.status() == 101) {
            backendFailed(exchange, "101 to a request that did not ask to upgrade", control);
            return;
          }
          if (response.hasNoBody(exchange.request)) {
            responseEnded(control);
          } else if (response.framing().kind() == HttpHead.Framing.Kind.NONE) {
            server = ServerState.UNTIL_CLOSE; // the body ends with the connection
          } else {
            responseBody = new MessageBody(response.framing());
            server = ServerState.BODY;
            if (responseBody.isDone()) {
              responseEnded(control);
            }
          }
        }
        case BODY -> {
          int n;
          try {
            n = responseBody.follow(bytes, at, end - at);
          } catch (HttpException e) {
            backendFailed(exchange, "a malformed chunked response: " + e.getMessage(), control);
            return;
          }
          control.pass(n);
          exchange.responseBytes += n;
          at += n;
          if (responseBody.isDone()) {
            responseEnded(control);
          }
        }
        case UNTIL_CLOSE -> {
          control.pass(end - at);
          exchange.responseBytes += end - at;
          at = end;
        }
      }
    }
  }

  private void responseEnded(Control control) {
    Exchange exchange = outstanding.pollFirst();
    server = ServerState.HEAD;
    responseBody = null;
    recorder.record(exchange);
    if (client == ClientState.WAIT_FOR_ANSWER && outstanding.isEmpty()) {
      // The request that might have switched protocols was the last one sent, and was answered
      // without switching: the client's next request may be read.
      client = ClientState.HEAD;
      control.resume(Side.CLIENT);
    }
    sendRefusalIfDue(control);
  }

  @Override
  public void ended(Side from, Control control) {
    if (from == Side.SERVER) {
      if (server == ServerState.UNTIL_CLOSE && !outstanding.isEmpty()) {
        responseEnded(control);
      }
      if (refusal != null) {
        // No more answers come: the requests before the refusal stay unanswered, and the
        // refusal goes out now.
        Exchange unanswered;
        while ((unanswered = outstanding.pollFirst()) != null) {
          unanswered.problem = "the backend closed without answering";
          recorder.record(unanswered);
        }
        sendRefusalIfDue(control);
      }
    }
  }

  /** The backend sent what the guard cannot follow: the connection ends. */
  private void backendFailed(Exchange exchange, String problem, Control control) {
    if (exchange != null) {
      exchange.problem = "backend sent " + problem;
    }
    control.stop();
  }

  // ------------------------------------------------------------------ text

  private static String shortReason(Decision decision) {
    String reason = decision.reason();
    if (reason.startsWith("no rule matched")) {
      return "no rule allows it";
    }
    return reason.length() > 200 ? reason.substring(0, 200) + "..." : reason;
  }

  static String reasonPhrase(int status) {
    return switch (status) {
      case 400 -> "Bad Request";
      case 403 -> "Forbidden";
      case 413 -> "Content Too Large";
      case 431 -> "Request Header Fields Too Large";
      case 501 -> "Not Implemented";
      case 505 -> "HTTP Version Not Supported";
      default -> "Error";
    };
  }
}
