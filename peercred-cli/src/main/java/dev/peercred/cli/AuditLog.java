package dev.peercred.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;

/**
 * The proxy's audit trail: one JSON object per line, to standard output or appended to a file.
 * {@link #reopen()} reopens the file, for log rotation.
 *
 * <p>Lines are gathered in memory and written with one {@code write(2)} for many: when {@link
 * #flush()} is called (the proxy does when a connection ends, before closing it), when {@value
 * #BUFFER} bytes wait, {@link #FLUSH_INTERVAL_MILLIS} milliseconds after a line came in at the
 * latest, and on {@link #close()}. A busy keep-alive connection therefore costs no system call per
 * request, and a clean shutdown loses nothing; a process killed outright loses at most the last
 * interval's lines.
 *
 * <p>Thread-safe; lines from different connections never interleave.
 */
final class AuditLog implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("dev.peercred.cli");

  /** Bytes gathered before they are written at once. */
  static final int BUFFER = 64 * 1024;

  /** The longest a line waits in memory. */
  static final long FLUSH_INTERVAL_MILLIS = 1000;

  private final Path file;
  private OutputStream out;
  private final byte[] pending = new byte[BUFFER];
  private int pendingLength;
  private boolean closed;
  private Thread flusher;

  private AuditLog(Path file, OutputStream out) {
    this.file = file;
    this.out = out;
  }

  /** An audit log on standard output. */
  static AuditLog toStandardOutput() {
    return new AuditLog(null, new FileOutputStream(FileDescriptor.out));
  }

  /**
   * An audit log appended to {@code file} (opened with {@code O_APPEND}), created if missing.
   *
   * @throws IOException if the file cannot be opened for appending
   */
  static AuditLog toFile(Path file) throws IOException {
    return new AuditLog(file, open(file));
  }

  private static OutputStream open(Path file) throws IOException {
    return Files.newOutputStream(
        file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
  }

  /**
   * Adds one record as one line, written out by the next flush. A failure is logged, never thrown
   * at the connection.
   */
  void write(Map<String, ?> record) {
    writeLine(Json.write(record));
  }

  /** Adds one record written already, one line of JSON without its newline, as {@link #write}. */
  void writeLine(String json) {
    byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
    int length = bytes.length + 1; // and the newline
    synchronized (this) {
      if (pendingLength + length > BUFFER) {
        writePending();
      }
      if (length > BUFFER || closed) {
        byte[] line = Arrays.copyOf(bytes, length);
        line[bytes.length] = '\n';
        writeOut(line, length);
        return;
      }
      System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
      pending[pendingLength + bytes.length] = '\n';
      pendingLength += length;
      if (flusher == null) {
        flusher = Thread.ofPlatform().name("peercred-audit").daemon().start(this::flushLater);
      } else {
        notifyAll();
      }
    }
  }

  /** A second's date and time of day as {@link Instant#toString()} writes them. */
  private record Second(long epochSecond, String text) {}

  private static volatile Second lastSecond;

  /**
   * {@code instant} exactly as {@link Instant#toString()} writes it ({@code
   * 2026-12-02T14:08:50.123456Z}): the date and time of day of the last second written are kept,
   * since a busy proxy writes many records a second.
   */
  static String timestamp(Instant instant) {
    long epochSecond = instant.getEpochSecond();
    Second second = lastSecond;
    if (second == null || second.epochSecond() != epochSecond) {
      String text = Instant.ofEpochSecond(epochSecond).toString();
      if (text.length() != 20) {
        return instant.toString(); // a year before 0 or after 9999: written otherwise
      }
      second = new Second(epochSecond, text.substring(0, 19));
      lastSecond = second;
    }
    StringBuilder out = new StringBuilder(31).append(second.text());
    int nanos = instant.getNano();
    if (nanos > 0) {
      // as Instant.toString: the fraction in groups of three digits, as many as it needs
      int digits = nanos % 1_000_000 == 0 ? 3 : nanos % 1_000 == 0 ? 6 : 9;
      int value = digits == 3 ? nanos / 1_000_000 : digits == 6 ? nanos / 1_000 : nanos;
      char[] fraction = new char[digits + 1];
      fraction[0] = '.';
      for (int i = digits; i > 0; i--) {
        fraction[i] = (char) ('0' + value % 10);
        value /= 10;
      }
      out.append(fraction);
    }
    return out.append('Z').toString();
  }

  /** Writes every line added so far. */
  synchronized void flush() {
    writePending();
  }

  private void writePending() {
    if (pendingLength > 0) {
      int length = pendingLength;
      pendingLength = 0;
      writeOut(pending, length);
    }
  }

  private void writeOut(byte[] bytes, int length) {
    try {
      out.write(bytes, 0, length);
      out.flush();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.ERROR, "cannot write the audit log: {0}", e.toString());
    }
  }

  /** The flusher: once lines wait, writes them out an interval later; ends with the log. */
  private void flushLater() {
    while (true) {
      synchronized (this) {
        while (pendingLength == 0 && !closed) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (closed) {
          return;
        }
      }
      try {
        Thread.sleep(FLUSH_INTERVAL_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      flush();
    }
  }

  /** Reopens the file (after it was rotated away); does nothing for standard output. */
  synchronized void reopen() throws IOException {
    if (file == null) {
      return;
    }
    OutputStream fresh = open(file);
    writePending(); // what came before the rotation goes to the old file
    OutputStream old = out;
    out = fresh;
    old.close();
  }

  @Override
  public synchronized void close() {
    writePending();
    closed = true;
    notifyAll();
    if (file != null) {
      try {
        out.close();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot close the audit log: {0}", e.toString());
      }
    }
  }
}
