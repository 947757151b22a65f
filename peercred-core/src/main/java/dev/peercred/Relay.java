package dev.peercred;

import dev.peercred.internal.linux.RelayEngine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Optional;

/**
 * Copies bytes between two connections until both directions have ended, on peercred's event loop:
 * no thread per direction, and no thread hand-off per read. The building block of a proxy.
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = relay}
 *
 * <p>End of stream from one side is passed on as a half-close ({@code shutdown(SHUT_WR)}) once
 * everything before it is delivered, and the other direction goes on. A side that stops taking
 * bytes (a write fails, as when a server answers and closes without reading the whole request) ends
 * only the direction towards it: what it sent is still delivered. A side whose read fails ends both
 * directions. Each direction stops reading while the other side does not keep up, so a slow reader
 * holds back its sender instead of filling memory.
 *
 * <p>An {@link Inspector} sees every byte before it crosses and decides what is passed on, so a
 * relay can filter a protocol (the proxy's per-request HTTP rules are one).
 *
 * <p><b>Threads and closing.</b> {@code between} parks the calling thread (a virtual thread
 * unmounts) until the relay ends. The relay never closes the connections: the caller does, after it
 * returns. Closing either connection from another thread, or interrupting the waiting thread, ends
 * the relay at once.
 */
public final class Relay {
  private Relay() {}

  /** One end of a relay. */
  public enum Side {
    /** The connection given first: usually the accepted client. */
    CLIENT,
    /** The connection given second: usually the backend. */
    SERVER;

    /** The other end. */
    public Side other() {
      return this == CLIENT ? SERVER : CLIENT;
    }
  }

  /**
   * What a relay carried once it ended.
   *
   * @param fromClient bytes read from the client and passed on to the server
   * @param fromServer bytes read from the server and passed on to the client
   * @param failure the first read or write that failed, if one did (a relay that ended because a
   *     side stopped reading records that side's write failure here too)
   * @param stopped true if an inspector ended the relay with {@link Control#stop()}
   */
  public record Result(
      long fromClient, long fromServer, Optional<IOException> failure, boolean stopped) {
    /**
     * Checks the values.
     *
     * @throws NullPointerException if {@code failure} is null
     */
    public Result {
      Objects.requireNonNull(failure, "failure");
    }
  }

  /**
   * Relays between {@code client} and {@code server} until both directions have ended.
   *
   * @param client one end
   * @param server the other end
   * @return what was carried
   * @throws IllegalArgumentException if both are the same connection
   */
  public static Result between(UnixConnection client, UnixConnection server) {
    return between(client, server, null);
  }

  /**
   * Relays between {@code client} and {@code server}, letting {@code inspector} decide what
   * crosses, until both directions have ended or the inspector stops the relay.
   *
   * @param client one end
   * @param server the other end
   * @param inspector sees and decides every byte; null passes everything
   * @return what was carried
   * @throws IllegalArgumentException if both are the same connection
   */
  public static Result between(UnixConnection client, UnixConnection server, Inspector inspector) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(server, "server");
    if (client == server) {
      throw new IllegalArgumentException("a relay needs two different connections");
    }
    return RelayEngine.run(client.socket(), server.socket(), inspector);
  }

  /**
   * Sees the bytes of a relay before they cross, and decides what is passed on, dropped, added or
   * held back. Called on the relay's event-loop thread, one call at a time per relay: an inspector
   * must not block (no I/O, no locks held by others, no name lookups) and should be quick, since
   * other relays wait meanwhile.
   */
  public interface Inspector {
    /**
     * Looks at the bytes read from {@code from} that are not yet passed on or dropped, from {@code
     * bytes.position()} to its limit, and consumes some of them, in order, with {@link
     * Control#pass(int)} and {@link Control#drop(int)}. What is not consumed is offered again,
     * followed by what arrives next, in the next call. The buffer is only valid during the call;
     * its position and limit are not to be changed.
     *
     * @param from the side the bytes came from
     * @param bytes the bytes not consumed yet
     * @param control what to do with them
     */
    void inspect(Side from, ByteBuffer bytes, Control control);

    /**
     * Tells that {@code from} ended its output and all its bytes were offered; bytes it left
     * unconsumed are dropped. After this returns, the end is passed on to the other side once what
     * is queued for it has been written.
     *
     * @param from the side that ended
     * @param control what else to do
     */
    default void ended(Side from, Control control) {}
  }

  /** What an {@link Inspector} does with the bytes it sees; valid only during its calls. */
  public interface Control {
    /**
     * Passes the next {@code count} unconsumed bytes on to the other side, unchanged.
     *
     * @param count how many, at most the bytes left unconsumed
     * @throws IllegalArgumentException if {@code count} is negative or more than is left
     */
    void pass(int count);

    /**
     * Drops the next {@code count} unconsumed bytes.
     *
     * @param count how many, at most the bytes left unconsumed
     * @throws IllegalArgumentException if {@code count} is negative or more than is left
     */
    void drop(int count);

    /**
     * Queues a copy of {@code bytes} (position to limit) for {@code to}, after what is queued for
     * it already.
     *
     * @param to the side to write to
     * @param bytes what to write; its position is not changed
     */
    void send(Side to, ByteBuffer bytes);

    /**
     * Stops reading from {@code from} and offering its bytes, until {@link #resume(Side)}: bytes
     * already read wait, and the sender is held back.
     *
     * @param from the side to hold
     */
    void hold(Side from);

    /**
     * Offers {@code from}'s bytes again after {@link #hold(Side)}, starting with those that waited.
     *
     * @param from the side to resume
     */
    void resume(Side from);

    /**
     * Stops inspecting: from now on everything is passed on unchanged both ways, bytes waiting
     * first.
     */
    void passThrough();

    /**
     * Ends the relay once everything queued is written: both sides get end of stream and no more
     * bytes are read.
     */
    void finish();

    /** Ends the relay now, writing nothing more; {@link Result#stopped()} tells. */
    void stop();
  }
}
