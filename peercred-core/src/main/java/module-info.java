/**
 * Unix domain sockets whose every connection knows, with the kernel's guarantee, which process is
 * on the other end.
 *
 * <p>This module calls the C library through {@code java.lang.foreign}; run it with {@code
 * --enable-native-access=dev.peercred} (module path) or {@code --enable-native-access=ALL-UNNAMED}
 * (class path). Where the JVM denies it native access, every call that needs the C library throws
 * an {@link java.lang.UnsupportedOperationException} naming the flag to add.
 */
module dev.peercred {
  requires jdk.jfr;

  exports dev.peercred;
  exports dev.peercred.policy;
}
