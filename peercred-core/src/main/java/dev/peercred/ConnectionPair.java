package dev.peercred;

import java.util.Objects;

/**
 * The two ends of a connected socket pair made by {@link UnixConnection#pair()}. Bytes written to
 * one end are read from the other. Closing the pair closes both ends; each end may also be closed
 * on its own.
 *
 * @param first one end
 * @param second the other end
 */
public record ConnectionPair(UnixConnection first, UnixConnection second) implements AutoCloseable {

  /**
   * Checks the values.
   *
   * @throws NullPointerException if either end is null
   */
  public ConnectionPair {
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(second, "second");
  }

  /** Closes both ends; idempotent. */
  @Override
  public void close() {
    first.close();
    second.close();
  }
}
