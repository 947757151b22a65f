package dev.peercred.internal.linux;

import dev.peercred.AddressInUseException;
import dev.peercred.PeerCredentialsException;
import dev.peercred.SystemCallError;
import dev.peercred.UnixSocketAddress;
import java.io.IOException;
import java.io.Serial;
import java.net.BindException;
import java.net.ConnectException;
import java.net.SocketException;

/**
 * Names and texts of the errno values peercred meets, and the one place where a failed call's errno
 * becomes an exception: of the JDK's type for the call (or {@link AddressInUseException}, {@link
 * PeerCredentialsException}), implementing {@link SystemCallError}. The numbers are those of
 * include/uapi/asm-generic/errno*.h, which x86_64 and aarch64 share.
 */
public final class Errno {
  private Errno() {}

  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EEXIST = 17;
  public static final int ENOTDIR = 20;
  public static final int EINVAL = 22;
  public static final int ENFILE = 23;
  public static final int EMFILE = 24;
  public static final int EPIPE = 32;
  public static final int ERANGE = 34;
  public static final int ENOSYS = 38;
  public static final int ENODATA = 61;
  public static final int ENOTSOCK = 88;
  public static final int ENOPROTOOPT = 92;
  public static final int EOPNOTSUPP = 95;
  public static final int EADDRINUSE = 98;
  public static final int ECONNABORTED = 103;
  public static final int ECONNRESET = 104;
  public static final int ENOBUFS = 105;
  public static final int ENOTCONN = 107;
  public static final int ECONNREFUSED = 111;

  private static final String[][] TABLE = new String[134][];

  private static void define(int errno, String name, String text) {
    TABLE[errno] = new String[] {name, text};
  }

  static {
    define(1, "EPERM", "Operation not permitted");
    define(2, "ENOENT", "No such file or directory");
    define(3, "ESRCH", "No such process");
    define(4, "EINTR", "Interrupted system call");
    define(5, "EIO", "Input/output error");
    define(9, "EBADF", "Bad file descriptor");
    define(11, "EAGAIN", "Resource temporarily unavailable");
    define(12, "ENOMEM", "Cannot allocate memory");
    define(13, "EACCES", "Permission denied");
    define(14, "EFAULT", "Bad address");
    define(17, "EEXIST", "File exists");
    define(20, "ENOTDIR", "Not a directory");
    define(21, "EISDIR", "Is a directory");
    define(22, "EINVAL", "Invalid argument");
    define(23, "ENFILE", "Too many open files in system");
    define(24, "EMFILE", "Too many open files");
    define(28, "ENOSPC", "No space left on device");
    define(30, "EROFS", "Read-only file system");
    define(32, "EPIPE", "Broken pipe");
    define(34, "ERANGE", "Numerical result out of range");
    define(36, "ENAMETOOLONG", "File name too long");
    define(38, "ENOSYS", "Function not implemented");
    define(40, "ELOOP", "Too many levels of symbolic links");
    define(61, "ENODATA", "No data available");
    define(88, "ENOTSOCK", "Socket operation on non-socket");
    define(91, "EPROTOTYPE", "Protocol wrong type for socket");
    define(92, "ENOPROTOOPT", "Protocol not available");
    define(93, "EPROTONOSUPPORT", "Protocol not supported");
    define(95, "EOPNOTSUPP", "Operation not supported");
    define(97, "EAFNOSUPPORT", "Address family not supported by protocol");
    define(98, "EADDRINUSE", "Address already in use");
    define(99, "EADDRNOTAVAIL", "Cannot assign requested address");
    define(103, "ECONNABORTED", "Software caused connection abort");
    define(104, "ECONNRESET", "Connection reset by peer");
    define(105, "ENOBUFS", "No buffer space available");
    define(106, "EISCONN", "Transport endpoint is already connected");
    define(107, "ENOTCONN", "Transport endpoint is not connected");
    define(110, "ETIMEDOUT", "Connection timed out");
    define(111, "ECONNREFUSED", "Connection refused");
    define(115, "EINPROGRESS", "Operation now in progress");
  }

  static {
    // Load the exception classes with this one: at EMFILE no class file can be opened from a class
    // directory, and reporting that very error must not need one. (Never fails this class: what
    // cannot be loaded now is loaded at first use.)
    try {
      Class<?>[] loaded = {
        SocketFailure.class,
        ConnectFailure.class,
        BindFailure.class,
        IoFailure.class,
        AddressInUseFailure.class,
        PeerCredentialsFailure.class
      };
    } catch (LinkageError e) {
      // loaded when first thrown
    }
  }

  /** The symbolic name, such as {@code EPIPE}; {@code errno 200} for a number it does not know. */
  public static String name(int errno) {
    String[] entry = errno >= 0 && errno < TABLE.length ? TABLE[errno] : null;
    return entry != null ? entry[0] : "errno " + errno;
  }

  /** The text {@code strerror(3)} gives, such as {@code Broken pipe}. */
  public static String text(int errno) {
    String[] entry = errno >= 0 && errno < TABLE.length ? TABLE[errno] : null;
    return entry != null ? entry[1] : "Unknown error " + errno;
  }

  /**
   * The message for a failed call: {@code getsockopt(SO_PEERCRED) failed: EBADF (Bad file
   * descriptor), fd=12}.
   */
  public static String message(String call, int errno, String detail) {
    String message = call + " failed: " + name(errno) + " (" + text(errno) + ")";
    return detail == null || detail.isEmpty() ? message : message + ", " + detail;
  }

  /**
   * A failed socket call as a {@link SocketException}; see {@link #message} for the message.
   *
   * @param call the call as the message names it, such as {@code recv} or {@code
   *     getsockopt(SO_PEERGROUPS)}
   * @param errno the error number, positive
   * @param detail what the call was on (a descriptor, a path), or null
   */
  public static SocketException socketException(String call, int errno, String detail) {
    return new SocketFailure(call, errno, detail);
  }

  /** A failed {@code connect(2)} to {@code target}, as a {@link ConnectException}. */
  public static ConnectException connectException(int errno, String target) {
    return new ConnectFailure("connect", errno, target);
  }

  /**
   * A failed call while binding a socket ({@code bind}, {@code lchown}, {@code chmod} of the socket
   * file), as a {@link BindException}.
   */
  public static BindException bindException(String call, int errno, String detail) {
    return new BindFailure(call, errno, detail);
  }

  /** A failed call that is not a socket's ({@code pidfd_open}, {@code getpwnam_r}, ...). */
  public static IOException ioException(String call, int errno, String detail) {
    return new IoFailure(call, errno, detail);
  }

  /**
   * A {@code bind(2)} to {@code address} that failed with {@code EADDRINUSE}, as an {@link
   * AddressInUseException}.
   */
  public static AddressInUseException addressInUse(UnixSocketAddress address, String detail) {
    return new AddressInUseFailure(address, detail);
  }

  /** A {@code getsockopt(SO_PEERCRED)} that failed, as a {@link PeerCredentialsException}. */
  public static PeerCredentialsException peerCredentialsException(int errno, String detail) {
    return new PeerCredentialsFailure(errno, detail);
  }

  // The exceptions: each extends the JDK (or peercred) type callers catch, and carries the call and
  // errno. Built by the factories above and nowhere else. Their toString(), and so the first line
  // of their stack trace, names that type: logs read "java.net.ConnectException: connect failed:
  // EACCES (Permission denied), /run/app.sock", not the name of a class callers cannot use.

  private static String shownAs(Class<?> type, Throwable failure) {
    String message = failure.getLocalizedMessage();
    return message == null ? type.getName() : type.getName() + ": " + message;
  }

  /** A failed socket call. */
  public static final class SocketFailure extends SocketException implements SystemCallError {
    @Serial private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    private SocketFailure(String call, int errno, String detail) {
      super(message(call, errno, detail));
      this.call = call;
      this.errno = errno;
    }

    @Override
    public String call() {
      return call;
    }

    @Override
    public int errno() {
      return errno;
    }

    @Override
    public String toString() {
      return shownAs(SocketException.class, this);
    }
  }

  /** A failed {@code connect(2)}. */
  public static final class ConnectFailure extends ConnectException implements SystemCallError {
    @Serial private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    private ConnectFailure(String call, int errno, String detail) {
      super(message(call, errno, detail));
      this.call = call;
      this.errno = errno;
    }

    @Override
    public String call() {
      return call;
    }

    @Override
    public int errno() {
      return errno;
    }

    @Override
    public String toString() {
      return shownAs(ConnectException.class, this);
    }
  }

  /** A failed call while binding. */
  public static final class BindFailure extends BindException implements SystemCallError {
    @Serial private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    private BindFailure(String call, int errno, String detail) {
      super(message(call, errno, detail));
      this.call = call;
      this.errno = errno;
    }

    @Override
    public String call() {
      return call;
    }

    @Override
    public int errno() {
      return errno;
    }

    @Override
    public String toString() {
      return shownAs(BindException.class, this);
    }
  }

  /** A failed call on something other than a socket. */
  public static final class IoFailure extends IOException implements SystemCallError {
    @Serial private static final long serialVersionUID = 1L;
    private final String call;
    private final int errno;

    private IoFailure(String call, int errno, String detail) {
      super(message(call, errno, detail));
      this.call = call;
      this.errno = errno;
    }

    @Override
    public String call() {
      return call;
    }

    @Override
    public int errno() {
      return errno;
    }

    @Override
    public String toString() {
      return shownAs(IOException.class, this);
    }
  }

  /** A {@code bind(2)} that failed with {@code EADDRINUSE}. */
  public static final class AddressInUseFailure extends AddressInUseException
      implements SystemCallError {
    @Serial private static final long serialVersionUID = 1L;

    private AddressInUseFailure(UnixSocketAddress address, String detail) {
      super(address, message("bind", EADDRINUSE, detail));
    }

    @Override
    public String call() {
      return "bind";
    }

    @Override
    public int errno() {
      return EADDRINUSE;
    }

    @Override
    public String toString() {
      return shownAs(AddressInUseException.class, this);
    }
  }

  /** A {@code getsockopt(SO_PEERCRED)} that failed. */
  public static final class PeerCredentialsFailure extends PeerCredentialsException
      implements SystemCallError {
    @Serial private static final long serialVersionUID = 1L;
    private final int errno;

    private PeerCredentialsFailure(int errno, String detail) {
      super(message("getsockopt(SO_PEERCRED)", errno, detail));
      this.errno = errno;
    }

    @Override
    public String call() {
      return "getsockopt(SO_PEERCRED)";
    }

    @Override
    public int errno() {
      return errno;
    }

    @Override
    public String toString() {
      return shownAs(PeerCredentialsException.class, this);
    }
  }
}
