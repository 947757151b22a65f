package dev.peercred.internal.linux;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes and decodes {@code struct sockaddr_un} (include/uapi/linux/un.h): a 16-bit family, then
 * 108 bytes of path. A file-system path is NUL-terminated; an abstract name starts with a NUL byte
 * and runs to the address length; an unnamed socket has no path bytes at all.
 */
public final class SocketAddresses {
  private SocketAddresses() {}

  /** {@code sizeof(struct sockaddr_un)}. */
  public static final int SOCKADDR_UN_SIZE = 110;

  /** Longest path or abstract name in bytes: {@code sun_path} holds 108, one kept for the NUL. */
  public static final int MAX_PATH_BYTES = 107;

  private static final int PATH_OFFSET = 2;

  /** The charset the JDK uses for file names on this system. */
  public static final Charset FILE_NAME_CHARSET = fileNameCharset();

  private static Charset fileNameCharset() {
    try {
      return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
    } catch (RuntimeException e) {
      return StandardCharsets.UTF_8;
    }
  }

  /** A {@code sockaddr_un} for a path (already checked: at most 107 bytes, no NUL). */
  public static byte[] forPath(byte[] path) {
    byte[] address = new byte[PATH_OFFSET + path.length + 1];
    address[0] = (byte) LibC.AF_UNIX; // sa_family_t, little-endian on x86_64 and aarch64
    System.arraycopy(path, 0, address, PATH_OFFSET, path.length);
    return address;
  }

  /** A {@code sockaddr_un} for an abstract name: a NUL byte, then the name, not terminated. */
  public static byte[] forAbstractName(byte[] name) {
    byte[] address = new byte[PATH_OFFSET + 1 + name.length];
    address[0] = (byte) LibC.AF_UNIX;
    System.arraycopy(name, 0, address, PATH_OFFSET + 1, name.length);
    return address;
  }

  /** The kind of address a raw {@code sockaddr_un} holds. */
  public enum Kind {
    UNNAMED,
    PATH,
    ABSTRACT
  }

  /** What kind of address {@code address} (of the length the kernel gave) holds. */
  public static Kind kind(byte[] address) {
    if (address.length <= PATH_OFFSET) {
      return Kind.UNNAMED;
    }
    return address[PATH_OFFSET] == 0 ? Kind.ABSTRACT : Kind.PATH;
  }

  /** The path or abstract-name bytes of {@code address}, without the terminating NUL. */
  public static byte[] nameBytes(byte[] address) {
    return switch (kind(address)) {
      case UNNAMED -> new byte[0];
      case ABSTRACT -> Arrays.copyOfRange(address, PATH_OFFSET + 1, address.length);
      case PATH -> {
        int end = PATH_OFFSET;
        while (end < address.length && address[end] != 0) {
          end++;
        }
        yield Arrays.copyOfRange(address, PATH_OFFSET, end);
      }
    };
  }
}
