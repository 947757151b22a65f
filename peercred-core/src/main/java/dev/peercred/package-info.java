/**
 * Unix domain sockets whose every connection knows, with the kernel's guarantee, who is on the
 * other end.
 *
 * <p>A server binds a {@link dev.peercred.UnixListener}; each {@link dev.peercred.UnixConnection}
 * it accepts carries the client's {@link dev.peercred.PeerCredentials} (pid, uid, gid), read with
 * {@code SO_PEERCRED} before {@code accept()} returns:
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = server}
 *
 * <p>A client {@linkplain dev.peercred.UnixConnection#connect(java.nio.file.Path) connects} and
 * gets the server's credentials the same way, to check that the socket is served by whom it
 * expects:
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = client}
 *
 * <h2>Comparison with {@code jdk.net.ExtendedSocketOptions.SO_PEERCRED}</h2>
 *
 * The JDK's option (on {@code SocketChannel}s of family {@code UNIX}) returns a {@code
 * UnixDomainPrincipal}: the user and group <em>names</em>, resolved through the user database on
 * every call. It gives no pid, no numeric ids (a uid without a name comes back as its number in
 * text), no supplementary groups, no security label and no handle on the process; and JDK channels
 * expose no descriptor publicly. {@link
 * dev.peercred.PeerCredentials#of(java.nio.channels.SocketChannel)} and {@link
 * dev.peercred.PeerIdentity#of(java.nio.channels.SocketChannel)} read everything from such a
 * channel, given {@code --add-exports java.base/sun.nio.ch=dev.peercred}.
 *
 * <h2>Native access</h2>
 *
 * This package calls the C library through {@code java.lang.foreign}. Run with {@code
 * --enable-native-access=dev.peercred} on the module path or {@code
 * --enable-native-access=ALL-UNNAMED} on the class path. Where the JVM denies native access ({@code
 * --illegal-native-access=deny}), every call that needs the C library throws an {@link
 * java.lang.UnsupportedOperationException} whose message names the exact flag to add and whose
 * cause is the JDK's {@link java.lang.IllegalCallerException}; nothing is remembered, so the first
 * call and every later one say the same. On platforms other than Linux x86_64 and aarch64, every
 * use throws {@link java.lang.UnsupportedOperationException} too.
 */
package dev.peercred;
