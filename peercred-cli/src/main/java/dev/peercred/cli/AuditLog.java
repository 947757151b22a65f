package dev.peercred.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * The proxy's audit trail: one JSON object per line, each written with a single {@code write(2)} as
 * soon as it is complete (nothing is buffered in the process), to standard output or appended to a
 * file. {@link #reopen()} reopens the file, for log rotation.
 *
 * <p>Thread-safe; lines from different connections never interleave.
 */
final class AuditLog implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("dev.peercred.cli");

  private final Path file;
  private OutputStream out;

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

  /** Writes one record as one line. A failure is logged, never thrown at the connection. */
  void write(Map<String, ?> record) {
    byte[] line = (Json.write(record) + "\n").getBytes(StandardCharsets.UTF_8);
    synchronized (this) {
      try {
        out.write(line);
        out.flush();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.ERROR, "cannot write the audit log: {0}", e.toString());
      }
    }
  }

  /** Reopens the file (after it was rotated away); does nothing for standard output. */
  synchronized void reopen() throws IOException {
    if (file == null) {
      return;
    }
    OutputStream fresh = open(file);
    OutputStream old = out;
    out = fresh;
    old.close();
  }

  @Override
  public synchronized void close() {
    if (file != null) {
      try {
        out.close();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot close the audit log: {0}", e.toString());
      }
    }
  }
}
