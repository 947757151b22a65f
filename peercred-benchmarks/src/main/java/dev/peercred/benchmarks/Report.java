package dev.peercred.benchmarks;

import static dev.peercred.benchmarks.Runner.f;

import dev.peercred.benchmarks.Runner.Result;
import dev.peercred.benchmarks.Runner.Settings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** Turns a run's results into the Markdown of docs/benchmarks.md. */
final class Report {
  private Report() {}

  static final Map<String, String> NAMES =
      Map.of(
          "c", "C, thread per connection (gcc -O2)",
          "go", "Go, goroutine per connection (netpoller)",
          "jdk", "JDK 25 SocketChannel, virtual threads",
          "netty", "Netty 4.2 epoll",
          "junixsocket", "junixsocket, platform threads",
          "peercred", "peercred EchoServer, virtual threads",
          "peercred-threads", "peercred EchoServer, platform threads");

  static double median(List<Result> results, ToDoubleFunction<Result> metric) {
    if (results == null) { // no such server in this run
      return Double.NaN;
    }
    double[] values =
        results.stream().mapToDouble(metric).filter(v -> !Double.isNaN(v)).sorted().toArray();
    if (values.length == 0) {
      return Double.NaN;
    }
    return values.length % 2 == 1
        ? values[values.length / 2]
        : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
  }

  static String markdown(
      Settings s,
      Map<String, List<Result>> results,
      List<String[]> jmh,
      Instant started,
      String loadBefore,
      String loadAfter) {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmarks\n\n");
    md.append(
        "peercred against the other ways a Java server can learn who is on the other end of a"
            + " Unix\n"
            + "socket, against a C server as the floor of what the kernel allows, and against Go"
            + " (the\n"
            + "language of the package peercred started from). Every server is the\n"
            + "same echo server: it reads the peer's credentials, answers only its own uid, and"
            + " sends each\n"
            + "line back with `> ` in front. Each runs as a process of its own, all of them at"
            + " once, under\n"
            + "the same load from one client process (JDK `SocketChannel`s, blocking, on platform"
            + " threads),\n"
            + "which serves them in turns: every scenario is cut into slices of "
            + Runner.SLICE_NANOS / 1e9
            + " s that go to each\n"
            + "server in turn, so that all of them meet the machine as it is in the same seconds"
            + " (on a\n"
            + "shared VM its speed swings from one second to the next). Compare within a run:"
            + " the ratios\n"
            + "hold from one run to the next better than the absolute figures.\n\n");
    md.append("## Conditions\n\n");
    md.append("| | |\n|---|---|\n");
    md.append("| date | ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" |\n");
    md.append("| machine | ").append(cpu()).append(" |\n");
    md.append("| kernel | ").append(read("/proc/sys/kernel/osrelease")).append(" |\n");
    md.append("| JDK | ")
        .append(System.getProperty("java.vm.name"))
        .append(' ')
        .append(System.getProperty("java.runtime.version"))
        .append(" (default JVM flags, `--enable-native-access=ALL-UNNAMED`) |\n");
    md.append("| load average before / after | ")
        .append(loadBefore)
        .append(" / ")
        .append(loadAfter)
        .append(" |\n");
    md.append("| scenario length | ")
        .append(s.seconds())
        .append(" s per server each, in turns of ")
        .append(Runner.SLICE_NANOS / 1e9)
        .append(" s, after a warm-up; ")
        .append(s.rounds())
        .append(s.rounds() == 1 ? " round" : " rounds (medians shown)")
        .append(" |\n");
    md.append("| command | `").append(s.command()).append("` |\n\n");

    md.append("## Results\n\n");
    md.append(
        "| server | connects/s | CPU µs/connect | ping-pong p50 µs | p99 µs | CPU µs/round trip"
            + " | stream MB/s | CPU ms/MB | RSS idle MiB | RSS with "
            + s.held()
            + " held MiB | KiB per held connection | heap held MiB | p50 while held µs | p99"
            + " while held µs | CPU µs/round trip while held | warm-up s |\n");
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (var entry : results.entrySet()) {
      List<Result> r = entry.getValue();
      md.append("| ").append(NAMES.getOrDefault(entry.getKey(), entry.getKey()));
      cell(md, median(r, Result::connectsPerSecond), 0);
      cell(md, median(r, Result::cpuPerConnectMicros), 1);
      cell(md, median(r, Result::p50Micros), 1);
      cell(md, median(r, Result::p99Micros), 1);
      cell(md, median(r, Result::cpuPerRoundTripMicros), 1);
      cell(md, median(r, Result::megabytesPerSecond), 0);
      cell(md, median(r, Result::cpuPerMegabyteMillis), 2);
      cell(md, median(r, Result::idleRssMiB), 0);
      cell(md, median(r, Result::heldRssMiB), 0);
      cell(md, median(r, Result::heldKiBPerConnection), 1);
      cell(md, median(r, Result::heldHeapMiB), 0);
      cell(md, median(r, Result::heldP50Micros), 1);
      cell(md, median(r, Result::heldP99Micros), 1);
      cell(md, median(r, Result::heldCpuPerRoundTripMicros), 1);
      cell(md, median(r, Result::warmUpSeconds), 1);
      long growing = r.stream().filter(one -> !one.steady()).count();
      if (growing > 0) {
        md.append(" (RSS still growing in ").append(growing).append(" of ").append(r.size());
        md.append(r.size() == 1 ? " round)" : " rounds)");
      }
      md.append(" |\n");
    }
    md.append('\n');
    md.append(
        "Connect: 2 client threads, each connecting, sending one 32-byte line, reading the echo"
            + " and\n"
            + "closing (the server checks the credentials on every connection). Ping-pong: 2"
            + " clients on\n"
            + "held connections, one 32-byte line per round trip. Throughput: one connection"
            + " streaming\n"
            + Runner.BIG_LINE
            + "-byte lines while a second thread reads the echo and checks that every line came"
            + " back,\n"
            + "in order, with its prefix (the run fails otherwise). Held, first of all, after "
            + Runner.HELD_WARM_UP_NANOS / 1e9
            + " s each of\n"
            + "connects and ping-pong (so that what came before is the same in every run):"
            + " RSS idle is\n"
            + "read, two client processes open the idle connections (one round trip each),"
            + " then RSS\n"
            + "(`VmRSS` of `/proc/PID/status`), heap in use after a full GC, and the ping-pong"
            + " are measured;\n"
            + "KiB per held connection is (RSS held − RSS idle) / connections held; after the"
            + " holders exit,\n"
            + "the run fails unless the server is back to the descriptors it had before"
            + " (`/proc/PID/fd`).\n"
            + "The held scenario runs server after server, the others idle meanwhile. Then"
            + " each server's\n"
            + "warm-up: half a scenario each of connects and ping-pong, then all three in"
            + " turn\n"
            + "until its RSS has grown by less than "
            + Runner.STEADY_GROWTH_MIB
            + " MiB in the last "
            + s.steadySeconds()
            + " s (at most "
            + Runner.STEADY_LIMIT
            + " times that; the\n"
            + "warm-up column says how long it took): a JVM enlarges its young generation over"
            + " its first\n"
            + "collections, and each page it allocates into for the first time costs a page"
            + " fault. Then the\n"
            + "other scenarios in turns.\n"
            + "CPU is the server's utime+stime from `/proc/PID/stat` (10 ms ticks) over its"
            + " slices, divided\n"
            + "by the operations done.\n\n");

    List<Result> ours = results.get("peercred");
    if (ours != null) {
      md.append("## Targets\n\n");
      md.append(targets(results, jmh));
      md.append('\n');
      if (s.rounds() > 1) {
        md.append(
            "Round by round, peercred's figure over the best peer's in the same round (higher is"
                + " better for\n"
                + "rates; for the ping-pong p50, lower is better), to show how far one round is"
                + " from the next:\n\n");
        md.append(rounds(results, s.rounds()));
        md.append('\n');
      }
    }

    if (!jmh.isEmpty()) {
      md.append("## Microbenchmarks (JMH)\n\n");
      md.append("`").append(s.jmhArgs()).append("`, average time per call.\n\n");
      md.append("| benchmark | ns/op | ± (99.9%) |\n|---|---:|---:|\n");
      for (String[] row : jmh) {
        String name = row[0].substring(row[0].lastIndexOf('.', row[0].lastIndexOf('.') - 1) + 1);
        md.append("| `")
            .append(name)
            .append("` | ")
            .append(f(Double.parseDouble(row[4]), 1))
            .append(" | ")
            .append(f(parseOrNaN(row[5]), 1))
            .append(" |\n");
      }
      md.append(
          "`rawGetsockopt` is the bare `getsockopt(SO_PEERCRED)` downcall into preallocated"
              + " arrays;\n"
              + "`peercredRead` is `PeerCredentials.read(fd)` on the same accepted socket;"
              + " `jdkGetOption`\n"
              + "is `SocketChannel.getOption(ExtendedSocketOptions.SO_PEERCRED)`, which also looks"
              + " up the\n"
              + "user and group names. `fullIdentity` is `PeerIdentity.read(fd)`: credentials,"
              + " groups,\n"
              + "label and the pidfd-pinned process (then closed); `fullIdentityWithExecutable`"
              + " adds the\n"
              + "executable's path, read and verified through the pidfd."
              + " `policyDecisionOnCredentials`\n"
              + "decides `deny uid 65534` / `allow same-user`; `policyDecision` passes a group"
              + " name\n"
              + "(resolved through NSS, cached) and an executable rule before `allow"
              + " same-user`.\n\n");
    }
    md.append(
        "See [performance.md](performance.md) for what these figures mean and how the read path\n"
            + "was tuned.\n");
    // Hand-written sections, kept as they stand: what each tuning step bought (measured in
    // runs of their own), then gRPC and the proxy (commands of their own).
    append(md, Path.of("peercred-benchmarks/tuning.md"));
    append(md, Path.of("peercred-benchmarks/other-benchmarks.md"));
    return md.toString();
  }

  private static void append(StringBuilder md, Path section) {
    if (Files.isReadable(section)) {
      try {
        md.append('\n').append(Files.readString(section));
      } catch (java.io.IOException e) {
        md.append("\n(")
            .append(section)
            .append(" could not be read: ")
            .append(e.getMessage())
            .append(")\n");
      }
    }
  }

  private static double parseOrNaN(String s) {
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  static String targets(Map<String, List<Result>> results, List<String[]> jmh) {
    StringBuilder md = new StringBuilder("| target | measured | met |\n|---|---|---|\n");
    List<Result> ours = results.get("peercred");
    leadRow(md, results, "connect rate ≥ best peer", "/s", Result::connectsPerSecond);
    leadRow(md, results, "stream throughput ≥ best peer", " MB/s", Result::megabytesPerSecond);
    double kib = median(ours, Result::heldKiBPerConnection);
    row(md, "≤ 6 KiB RSS per held connection", kib, f(kib, 1) + " KiB", kib <= 6);
    double p50 = median(ours, Result::p50Micros);
    double cp50 =
        results.containsKey("c") ? median(results.get("c"), Result::p50Micros) : Double.NaN;
    String bestJava = best(results, Result::p50Micros, false, true);
    double bestJavaP50 = median(results.get(bestJava), Result::p50Micros);
    row(
        md,
        "ping-pong p50 ≤ 1.3× C",
        p50 / cp50,
        f(p50 / cp50, 2) + "× C (" + f(p50, 1) + " vs " + f(cp50, 1) + " µs)",
        p50 <= 1.3 * cp50);
    row(
        md,
        "ping-pong p50 ≤ best Java peer",
        p50 / bestJavaP50,
        f(p50, 1) + " vs " + f(bestJavaP50, 1) + " µs (" + bestJava + ")",
        p50 <= bestJavaP50);
    double heldP50 = median(ours, Result::heldP50Micros);
    row(
        md,
        "ping-pong slowdown while held < 2×",
        heldP50 / p50,
        f(heldP50 / p50, 2) + "×",
        heldP50 / p50 < 2);
    double read = jmhScore(jmh, "peercredRead");
    double raw = jmhScore(jmh, "rawGetsockopt");
    if (!Double.isNaN(read) && !Double.isNaN(raw)) {
      row(
          md,
          "credential read ≤ 1.2× raw getsockopt",
          read / raw,
          f(read / raw, 2) + "× (" + f(read, 0) + " vs " + f(raw, 0) + " ns)",
          read <= 1.2 * raw);
    }
    return md.toString();
  }

  /** Per round: peercred against the best peer of that round, for each target with a peer. */
  static String rounds(Map<String, List<Result>> results, int rounds) {
    StringBuilder md =
        new StringBuilder(
            "| round | connects/s ÷ best peer | stream MB/s ÷ best peer | p50 ÷ C | p50 ÷ best"
                + " Java peer |\n|---|---:|---:|---:|---:|\n");
    for (int i = 0; i < rounds; i++) {
      Map<String, List<Result>> round = new LinkedHashMap<>();
      for (var entry : results.entrySet()) {
        if (entry.getValue().size() > i) {
          round.put(entry.getKey(), List.of(entry.getValue().get(i)));
        }
      }
      List<Result> ours = round.get("peercred");
      md.append("| ").append(i + 1);
      ratioCell(
          md,
          ours,
          round.get(best(round, Result::connectsPerSecond, true, false)),
          Result::connectsPerSecond);
      ratioCell(
          md,
          ours,
          round.get(best(round, Result::megabytesPerSecond, true, false)),
          Result::megabytesPerSecond);
      ratioCell(md, ours, round.get("c"), Result::p50Micros);
      ratioCell(
          md, ours, round.get(best(round, Result::p50Micros, false, true)), Result::p50Micros);
      md.append(" |\n");
    }
    return md.toString();
  }

  private static void ratioCell(
      StringBuilder md, List<Result> ours, List<Result> theirs, ToDoubleFunction<Result> metric) {
    double ratio = median(ours, metric) / median(theirs, metric);
    md.append(" | ").append(Double.isNaN(ratio) ? "–" : f(ratio, 2) + "×");
  }

  /** A target row: peercred's median of {@code metric} at least the best peer's. */
  private static void leadRow(
      StringBuilder md,
      Map<String, List<Result>> results,
      String target,
      String unit,
      ToDoubleFunction<Result> metric) {
    double ours = median(results.get("peercred"), metric);
    String peer = best(results, metric, true, false);
    double theirs = median(results.get(peer), metric);
    row(
        md,
        target,
        ours / theirs,
        f(ours, 0) + " vs " + f(theirs, 0) + unit + " (" + peer + "): " + f(ours / theirs, 2) + "×",
        ours >= theirs);
  }

  private static double jmhScore(List<String[]> jmh, String benchmark) {
    for (String[] row : jmh) {
      if (row[0].endsWith("." + benchmark)) {
        return Double.parseDouble(row[4]);
      }
    }
    return Double.NaN;
  }

  /**
   * A target row; {@code figure} is what decides it, and NaN if the run did not measure it (no held
   * connections, no C server...), which the row says instead of "no".
   */
  private static void row(
      StringBuilder md, String target, double figure, String measured, boolean met) {
    boolean measuredHere = !Double.isNaN(figure);
    md.append("| ")
        .append(target)
        .append(" | ")
        .append(measuredHere ? measured : "not measured in this run")
        .append(" | ")
        .append(!measuredHere ? "–" : met ? "yes" : "**no**")
        .append(" |\n");
  }

  /**
   * The peer (never peercred, nor a variant of it) with the best median of {@code metric}; Java
   * peers only if asked.
   */
  private static String best(
      Map<String, List<Result>> results,
      ToDoubleFunction<Result> metric,
      boolean higher,
      boolean javaOnly) {
    String best = null;
    double bestValue = Double.NaN;
    for (var entry : results.entrySet()) {
      String peer = entry.getKey();
      if (peer.equals("peercred")
          || Runner.PEERCRED_VARIANTS.contains(peer)
          || javaOnly && Runner.NATIVE_SERVERS.contains(peer)) {
        continue;
      }
      double v = median(entry.getValue(), metric);
      if (Double.isNaN(v)) {
        continue;
      }
      if (best == null || (higher ? v > bestValue : v < bestValue)) {
        best = peer;
        bestValue = v;
      }
    }
    return best == null ? "none" : best;
  }

  private static void cell(StringBuilder md, double value, int decimals) {
    md.append(" | ").append(f(value, decimals));
  }

  private static String cpu() {
    String model = "unknown CPU";
    for (String line : read("/proc/cpuinfo").split("\n")) {
      if (line.startsWith("model name")) {
        model = line.substring(line.indexOf(':') + 1).strip();
        break;
      }
    }
    String mem =
        Arrays.stream(read("/proc/meminfo").split("\n"))
            .filter(l -> l.startsWith("MemTotal"))
            .findFirst()
            .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024 / 1024 + " GiB RAM")
            .orElse("");
    return model + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, " + mem;
  }

  private static String read(String file) {
    try {
      return Files.readString(Path.of(file)).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
