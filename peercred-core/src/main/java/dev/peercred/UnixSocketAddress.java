package dev.peercred;

import dev.peercred.internal.linux.SocketAddresses;
import java.io.Serial;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The address of a Unix domain socket: a file-system path, a Linux abstract name, or unnamed (what
 * a client that never called {@code bind(2)} has).
 *
 * <p>A path is checked when the address is made: it must not be empty, must not contain a NUL byte,
 * and must fit the kernel's {@code sun_path} (at most 107 bytes in the file-name encoding). A
 * relative path is resolved against the working directory first, and the limit applies to the
 * result. Abstract names have the same limit; they live in the network namespace, not the file
 * system, and so have <em>no permissions at all</em>: any process in the namespace may connect.
 * Pair them with a check of the peer's credentials.
 *
 * <p>Instances are immutable and compare by value.
 */
public final class UnixSocketAddress extends SocketAddress {
  @Serial private static final long serialVersionUID = 1L;

  private static final UnixSocketAddress UNNAMED = new UnixSocketAddress(null, null, new byte[0]);

  private final transient Path path;
  private final String abstractName;
  private final byte[] bytes;

  private UnixSocketAddress(Path path, String abstractName, byte[] bytes) {
    this.path = path;
    this.abstractName = abstractName;
    this.bytes = bytes;
  }

  /**
   * The address of a socket file.
   *
   * @throws IllegalArgumentException if the path is empty, belongs to a file system other than the
   *     default one (a zip file system, say), or its absolute form is longer than 107 bytes
   * @throws NullPointerException if {@code path} is null
   */
  public static UnixSocketAddress of(Path path) {
    Objects.requireNonNull(path, "socket path");
    if (path.getFileSystem() != java.nio.file.FileSystems.getDefault()) {
      throw new IllegalArgumentException(
          "socket path is not on the default file system: " + path.getFileSystem());
    }
    if (path.toString().isEmpty()) {
      throw new IllegalArgumentException("socket path is empty");
    }
    Path absolute = path.toAbsolutePath();
    byte[] bytes = absolute.toString().getBytes(SocketAddresses.FILE_NAME_CHARSET);
    if (bytes.length > SocketAddresses.MAX_PATH_BYTES) {
      throw new IllegalArgumentException(
          "socket path is "
              + bytes.length
              + " bytes long; the kernel's limit (sun_path) is "
              + SocketAddresses.MAX_PATH_BYTES
              + ": "
              + absolute);
    }
    return new UnixSocketAddress(absolute, null, bytes);
  }

  /**
   * An address in Linux's abstract namespace. The name is given without the leading NUL byte.
   *
   * @throws IllegalArgumentException if the name is empty, contains a NUL character or a lone
   *     surrogate (it has no UTF-8 form, and two such names would bind the same socket), or is
   *     longer than 107 bytes in UTF-8
   */
  public static UnixSocketAddress ofAbstract(String name) {
    Objects.requireNonNull(name, "abstract socket name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("abstract socket name is empty");
    }
    int nul = name.indexOf('\0');
    if (nul >= 0) {
      throw new IllegalArgumentException(
          "abstract socket name contains a NUL character at index " + nul);
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < name.length()
          && Character.isLowSurrogate(name.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(
            "abstract socket name contains a lone surrogate character at index " + i);
      }
    }
    byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (bytes.length > SocketAddresses.MAX_PATH_BYTES) {
      throw new IllegalArgumentException(
          "abstract socket name is "
              + bytes.length
              + " bytes long; the kernel's limit is "
              + SocketAddresses.MAX_PATH_BYTES);
    }
    return new UnixSocketAddress(null, name, bytes);
  }

  /**
   * Parses a socket address as users write it: {@code @name} for an abstract name, anything else a
   * path. Checks everything {@link #of(Path)} and {@link #ofAbstract(String)} check, and names the
   * problem, including a NUL character (which no {@link Path} can hold).
   *
   * @throws IllegalArgumentException if the text is not a valid socket address
   */
  public static UnixSocketAddress parse(String text) {
    Objects.requireNonNull(text, "socket address");
    if (text.startsWith("@")) {
      return ofAbstract(text.substring(1));
    }
    int nul = text.indexOf('\0');
    if (nul >= 0) {
      throw new IllegalArgumentException("socket path contains a NUL character at index " + nul);
    }
    if (text.isEmpty()) {
      throw new IllegalArgumentException("socket path is empty");
    }
    try {
      return of(Path.of(text));
    } catch (java.nio.file.InvalidPathException e) {
      throw new IllegalArgumentException("invalid socket path: " + e.getMessage(), e);
    }
  }

  /** The address of a socket that was never bound. */
  public static UnixSocketAddress unnamed() {
    return UNNAMED;
  }

  /** Decodes a raw {@code sockaddr_un} the kernel returned. */
  static UnixSocketAddress fromSockaddr(byte[] sockaddr) {
    if (sockaddr == null) {
      return UNNAMED;
    }
    byte[] name = SocketAddresses.nameBytes(sockaddr);
    return switch (SocketAddresses.kind(sockaddr)) {
      case UNNAMED -> UNNAMED;
      case ABSTRACT ->
          new UnixSocketAddress(
              null, new String(name, java.nio.charset.StandardCharsets.UTF_8), name);
      case PATH ->
          new UnixSocketAddress(
              Path.of(new String(name, SocketAddresses.FILE_NAME_CHARSET)), null, name);
    };
  }

  /** The raw {@code sockaddr_un} for bind and connect. */
  byte[] toSockaddr() {
    if (abstractName != null) {
      return SocketAddresses.forAbstractName(bytes);
    }
    if (path == null) {
      throw new IllegalArgumentException(
          "an unnamed socket address cannot be bound or connected to");
    }
    return SocketAddresses.forPath(bytes);
  }

  /** The socket file's path; empty for abstract and unnamed addresses. */
  public Optional<Path> path() {
    return Optional.ofNullable(path);
  }

  /** The abstract name, without the leading NUL; empty for paths and unnamed addresses. */
  public Optional<String> abstractName() {
    return Optional.ofNullable(abstractName);
  }

  /** True for the address of a socket that was never bound. */
  public boolean isUnnamed() {
    return path == null && abstractName == null;
  }

  /** True for an address in the abstract namespace. */
  public boolean isAbstract() {
    return abstractName != null;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof UnixSocketAddress that
        && (abstractName != null) == (that.abstractName != null)
        && Arrays.equals(bytes, that.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes) * 31 + (abstractName != null ? 1 : 0);
  }

  /** The path, {@code @name} for an abstract name, or {@code (unnamed)}. */
  @Override
  public String toString() {
    if (path != null) {
      return path.toString();
    }
    return abstractName != null ? "@" + abstractName : "(unnamed)";
  }
}
