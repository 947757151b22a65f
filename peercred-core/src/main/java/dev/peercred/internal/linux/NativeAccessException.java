package dev.peercred.internal.linux;

import java.io.Serial;

/**
 * Thrown while the JVM denies peercred native access ({@code --illegal-native-access=deny}, the
 * default of a later JDK): peercred calls the C library through {@code java.lang.foreign}, which
 * needs it. The message names the exact flag that grants it, decided by whether peercred runs as
 * the named module {@code dev.peercred} or on the class path; the cause is the JDK's {@link
 * IllegalCallerException}. An {@link UnsupportedOperationException}, like the failure on an
 * unsupported platform: either way peercred cannot run as this JVM was started.
 */
public final class NativeAccessException extends UnsupportedOperationException {
  @Serial private static final long serialVersionUID = 1L;

  NativeAccessException(IllegalCallerException cause) {
    super(message(), cause);
  }

  /** {@code --enable-native-access=dev.peercred} or {@code --enable-native-access=ALL-UNNAMED}. */
  static String flag() {
    Module module = LibC.class.getModule();
    return "--enable-native-access=" + (module.isNamed() ? module.getName() : "ALL-UNNAMED");
  }

  private static String message() {
    Module module = LibC.class.getModule();
    return "peercred calls the C library through java.lang.foreign, and this JVM denies native"
        + " access to "
        + (module.isNamed() ? "module " + module.getName() : "code on the class path")
        + ": start it with "
        + flag()
        + (module.isNamed()
            ? ""
            : " (an executable JAR can say Enable-Native-Access: ALL-UNNAMED in its manifest)");
  }
}
