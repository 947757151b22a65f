package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit trail gathers lines in memory and still loses none. */
class AuditLogTest {
  @TempDir Path dir;

  private static Map<String, Object> record(int n) {
    Map<String, Object> record = Json.object();
    record.put("request", n);
    record.put("path", "/_ping");
    return record;
  }

  @Test
  void timestampsAreWrittenAsInstantWritesThem() {
    Instant base = Instant.parse("2026-12-02T14:08:50Z");
    for (long nanos :
        new long[] {
          0, 1, 999, 1_000, 120_000, 123_456_789, 500_000_000, 999_999_999, 1_000_000_001
        }) {
      Instant instant = base.plusNanos(nanos);
      assertEquals(instant.toString(), AuditLog.timestamp(instant), () -> "+" + nanos + " ns");
      assertEquals(instant.toString(), AuditLog.timestamp(instant), "the second's text kept");
    }
    for (String far : new String[] {"1969-12-31T23:59:59.500Z", "+12026-01-01T00:00:00.001Z"}) {
      assertEquals(far, AuditLog.timestamp(Instant.parse(far)));
    }
  }

  @Test
  void flushWritesEveryLineAddedSoFar() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog log = AuditLog.toFile(file)) {
      log.write(record(1));
      log.write(record(2));
      log.flush();
      assertEquals(
          List.of("{\"request\":1,\"path\":\"/_ping\"}", "{\"request\":2,\"path\":\"/_ping\"}"),
          Files.readAllLines(file));
    }
  }

  @Test
  void linesReachTheFileWithoutAFlushWithinTheInterval() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    try (AuditLog log = AuditLog.toFile(file)) {
      log.write(record(1));
      Await.until("the first line written", () -> Files.readAllLines(file).size() == 1);
      log.write(record(2)); // the flusher waits again, and writes this one too
      Await.until("the second line written", () -> Files.readAllLines(file).size() == 2);
    }
  }

  @Test
  void closeLosesNothingAndManyLinesStayWhole() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    int count = 5 * AuditLog.BUFFER / 20; // several buffers' worth
    AuditLog log = AuditLog.toFile(file);
    Thread[] writers = new Thread[4];
    for (int t = 0; t < writers.length; t++) {
      writers[t] =
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; i < count; i++) {
                      log.write(record(i));
                    }
                  });
    }
    for (Thread writer : writers) {
      writer.join();
    }
    log.close();
    List<String> lines = Files.readAllLines(file);
    assertEquals(writers.length * count, lines.size());
    for (String line : lines) {
      assertTrue(line.startsWith("{\"request\":") && line.endsWith("\"/_ping\"}"), line);
    }
  }
}
