package dev.peercred.internal.linux;

import java.util.Locale;

/**
 * Whether this JVM runs where peercred's system calls are known: Linux on x86_64 or aarch64.
 *
 * <p>Checked once, without throwing; {@link #ensureSupported()} throws a clear {@link
 * UnsupportedOperationException} at the first use of the library elsewhere. macOS and the BSDs have
 * equivalents ({@code LOCAL_PEERCRED}, {@code LOCAL_PEEREPID}, {@code getpeereid}) that a sibling
 * package can bind the same way.
 */
public final class Platform {
  private Platform() {}

  private static final String OS = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
  private static final String ARCH = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);

  /** True on x86_64, where {@code struct epoll_event} is packed. */
  public static final boolean X86_64 = ARCH.equals("amd64") || ARCH.equals("x86_64");

  private static final boolean AARCH64 = ARCH.equals("aarch64") || ARCH.equals("arm64");

  private static final String UNSUPPORTED_REASON =
      !OS.startsWith("linux")
          ? "peercred supports Linux only; this is " + System.getProperty("os.name")
          : !(X86_64 || AARCH64)
              ? "peercred supports Linux on x86_64 and aarch64 only; this is " + ARCH
              : null;

  /** True where peercred can run. */
  public static boolean isSupported() {
    return UNSUPPORTED_REASON == null;
  }

  /** Why peercred cannot run here, or {@code null} where it can. */
  public static String unsupportedReason() {
    return UNSUPPORTED_REASON;
  }

  /**
   * Throws {@link UnsupportedOperationException} with the reason where peercred cannot run.
   *
   * @throws UnsupportedOperationException on any platform but Linux x86_64 and aarch64
   */
  public static void ensureSupported() {
    if (UNSUPPORTED_REASON != null) {
      throw new UnsupportedOperationException(UNSUPPORTED_REASON);
    }
  }
}
