package dev.peercred.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The messages logged to one {@code java.util.logging} logger (where {@code System.Logger} goes by
 * default) while this is open, such as the {@code dev.peercred.audit} lines of a test's server.
 *
 * <p>It holds the logger: {@code java.util.logging} keeps loggers only weakly, so a handler added
 * to {@code Logger.getLogger(name)} without keeping the logger is lost if the logger is collected
 * before the code under test first logs to it (and then nothing is captured).
 */
public final class LogLines extends Handler implements AutoCloseable {
  private final Logger logger;
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final SimpleFormatter formatter = new SimpleFormatter();

  private LogLines(Logger logger) {
    this.logger = logger;
    logger.addHandler(this);
  }

  /** Starts capturing what is logged to the logger {@code name}. */
  public static LogLines capture(String name) {
    return new LogLines(Logger.getLogger(name));
  }

  /** The messages so far, formatted (parameters filled in), oldest first; a live view. */
  public List<String> lines() {
    return lines;
  }

  @Override
  public void publish(LogRecord record) {
    lines.add(formatter.formatMessage(record));
  }

  @Override
  public void flush() {}

  /** Stops capturing. */
  @Override
  public void close() {
    logger.removeHandler(this);
  }
}
