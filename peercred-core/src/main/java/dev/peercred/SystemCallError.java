package dev.peercred;

import dev.peercred.internal.linux.Errno;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A system call or C library function that failed, and the error number it failed with.
 *
 * <p>Every exception peercred makes from an {@code errno} implements this interface: the {@link
 * java.net.SocketException}s, {@link java.net.ConnectException}s and {@link
 * java.net.BindException}s of the socket calls, the {@link java.io.IOException}s of the process and
 * name-service calls, and {@link AddressInUseException} and {@link PeerCredentialsException} where
 * a call's errno is what they report. The exceptions keep those JDK types, so code catches what it
 * always caught, and asks this interface when the reason matters, instead of reading the message:
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = errno}
 *
 * <p>The error numbers are Linux's ({@code include/uapi/asm-generic/errno-base.h} and {@code
 * errno.h}), the same on x86_64 and aarch64.
 */
public sealed interface SystemCallError
    permits Errno.SocketFailure,
        Errno.ConnectFailure,
        Errno.BindFailure,
        Errno.IoFailure,
        Errno.AddressInUseFailure,
        Errno.PeerCredentialsFailure {

  /**
   * The call that failed, as the exception's message names it: {@code bind}, {@code connect},
   * {@code getsockopt(SO_PEERCRED)}, {@code epoll_create1}.
   *
   * @return the name of the call
   */
  String call();

  /**
   * The error number the call failed with, for example 13 for {@code EACCES}.
   *
   * @return the errno value, positive
   */
  int errno();

  /**
   * The symbolic name of {@link #errno()}, such as {@code EACCES} or {@code ECONNREFUSED}; {@code
   * errno 200} for a number peercred has no name for.
   *
   * @return the name of the error number
   */
  default String errnoName() {
    return Errno.name(errno());
  }

  /**
   * Finds the failed system call behind {@code throwable}: {@code throwable} itself if it is one,
   * else the first of its causes that is (a cause chain that loops is walked once).
   *
   * @param throwable an exception thrown by peercred, or one that wraps it
   * @return the failed call, or empty if no exception in the chain came from an errno
   * @throws NullPointerException if {@code throwable} is null
   */
  static Optional<SystemCallError> of(Throwable throwable) {
    Objects.requireNonNull(throwable, "throwable");
    Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    for (Throwable t = throwable; t != null && seen.add(t); t = t.getCause()) {
      if (t instanceof SystemCallError error) {
        return Optional.of(error);
      }
    }
    return Optional.empty();
  }
}
