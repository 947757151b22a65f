package dev.peercred;

import dev.peercred.internal.linux.Errno;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * The file of a Unix socket bound at a path, and the two decisions a server makes about it: what to
 * do with a file already at the path before binding, and whether the file at the path is still its
 * own when it closes. {@link UnixListener} uses it; so can a server that binds its socket some
 * other way (a gRPC or Netty server).
 *
 * {@snippet class = dev.peercred.examples.snippets.CoreSnippets region = socket-file}
 *
 * <p>A file is known by its device and inode, not by its name: a socket someone put at the path
 * since, or a file moved over it, has another inode and is left alone. An inode number can go to a
 * new file only once the old file is both unlinked and closed everywhere, so while the socket bound
 * at the path is open, nothing else can be taken for its file: check before its last descriptor
 * closes ({@link UnixListener#close()} does). The name is unlinked after the check, so a
 * replacement in the instant between the two is not seen ({@code unlink(2)} takes a name, not an
 * inode); replacing a file needs write permission on its directory, which should be kept to the
 * server's user.
 */
public final class SocketFile {
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;

  /** How long the probe of {@link #removeIfStale} waits while a live server's backlog is full. */
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(1);

  private final Path path;
  private final long device;
  private final long inode;

  private SocketFile(Path path, long device, long inode) {
    this.path = path;
    this.device = device;
    this.inode = inode;
  }

  /**
   * Removes the socket file at {@code path} if no server accepts connections there, so that a
   * server can bind where a dead one left its file. The socket is probed with {@code connect(2)}:
   * only {@code ECONNREFUSED} makes it stale, and then it is removed only if it is still the file
   * that was probed (same device and inode). Nothing at the path, or a probe that fails otherwise
   * ({@code EACCES}: we may not connect), leaves the path as it is for {@code bind(2)} to report.
   * Symbolic links are not followed: a link is in the way like any file that is not a socket.
   *
   * @param path the socket path
   * @return true if a stale socket file was removed
   * @throws AddressInUseException if a server accepts connections at {@code path} (its backlog full
   *     for a second counts as accepting)
   * @throws BindException if a file that is not a socket is at {@code path}: its type is named, and
   *     it is left untouched
   * @throws IllegalArgumentException if {@code path} is empty or too long for a socket address
   * @throws IOException if the file's type cannot be read
   * @throws UnsupportedOperationException on a platform other than Linux x86_64 or aarch64
   */
  public static boolean removeIfStale(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    UnixSocketAddress address = UnixSocketAddress.of(path);
    Map<String, Object> attributes = attributes(path);
    if (attributes == null) {
      return false;
    }
    int mode = (Integer) attributes.get("mode");
    if ((mode & S_IFMT) != S_IFSOCK) {
      throw new BindException(
          "cannot bind "
              + path
              + ": a "
              + fileType(mode)
              + " that is not a socket is in the way (left untouched)");
    }
    SocketFile probed = new SocketFile(path, device(attributes), inode(attributes));
    try (UnixConnection probe = UnixConnection.connect(address, PROBE_TIMEOUT)) {
      throw inUse(address);
    } catch (ConnectException e) {
      boolean refused =
          SystemCallError.of(e).filter(f -> f.errno() == Errno.ECONNREFUSED).isPresent();
      return refused && probed.deleteIfUnchanged();
    } catch (PeerCredentialsException | SocketTimeoutException e) {
      throw inUse(address); // connected, or the backlog stayed full: a server is there
    }
  }

  private static AddressInUseException inUse(UnixSocketAddress address) {
    return new AddressInUseException(
        address, "address already in use: a server is listening at " + address);
  }

  /**
   * Records which file {@code path} names now, by device and inode: call it right after binding, so
   * that {@link #deleteIfUnchanged()} later removes this file and no other.
   *
   * @param path the path the socket was bound at
   * @return the file at {@code path}
   * @throws NoSuchFileException if nothing is at {@code path}
   * @throws IOException if the file's device and inode cannot be read
   */
  public static SocketFile of(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    Map<String, Object> attributes = attributes(path);
    if (attributes == null) {
      throw new NoSuchFileException(path.toString());
    }
    return new SocketFile(path, device(attributes), inode(attributes));
  }

  /**
   * The same file under a second name: hard-links {@code link} to it ({@code link(2)}, which never
   * replaces an existing file).
   *
   * @throws java.nio.file.FileAlreadyExistsException if something is at {@code link}
   */
  SocketFile linkAs(Path link) throws IOException {
    Files.createLink(link, path);
    return new SocketFile(link, device, inode);
  }

  /**
   * The path this file was found at.
   *
   * @return the path given to {@link #of(Path)}
   */
  public Path path() {
    return path;
  }

  /**
   * Deletes the file at {@link #path()} if it is still this one (same device and inode); a file put
   * there since, of any kind, is left alone.
   *
   * @return true if this call deleted the file
   * @throws IOException if the file's device and inode cannot be read, or the file cannot be
   *     deleted
   */
  public boolean deleteIfUnchanged() throws IOException {
    Map<String, Object> now = attributes(path);
    if (now == null || device(now) != device || inode(now) != inode) {
      return false;
    }
    return Files.deleteIfExists(path);
  }

  /** The file's mode, device and inode, not following a symbolic link; null if there is none. */
  private static Map<String, Object> attributes(Path path) throws IOException {
    try {
      return Files.readAttributes(path, "unix:mode,dev,ino", LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static long device(Map<String, Object> attributes) {
    return (Long) attributes.get("dev");
  }

  private static long inode(Map<String, Object> attributes) {
    return (Long) attributes.get("ino");
  }

  private static String fileType(int mode) {
    return switch (mode & S_IFMT) {
      case 0100000 -> "regular file";
      case 0040000 -> "directory";
      case 0120000 -> "symbolic link";
      case 0010000 -> "FIFO";
      case 0020000 -> "character device";
      case 0060000 -> "block device";
      default -> "file";
    };
  }

  /** Reads well in a log line: {@code SocketFile[/run/app.sock, device 2049, inode 1234]}. */
  @Override
  public String toString() {
    return "SocketFile[" + path + ", device " + device + ", inode " + inode + "]";
  }
}
