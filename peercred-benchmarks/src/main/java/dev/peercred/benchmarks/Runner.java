package dev.peercred.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Runs every reference server, each a process of its own and all at once, under the same load that
 * serves them in turns (see {@link #SLICE_NANOS}), then the JMH microbenchmarks, and writes the
 * results as Markdown.
 *
 * <pre>
 * Runner [--servers c,go,jdk,netty,junixsocket,peercred] [--seconds 5] [--held 19000] [--rounds 1]
 *        [--jmh true|false] [--out docs/benchmarks.md] [--command "how this was started"]
 * </pre>
 */
public final class Runner {
  /** The servers a run measures unless told otherwise: peercred's example and every peer. */
  static final List<String> DEFAULT_SERVERS =
      List.of("c", "go", "jdk", "netty", "junixsocket", "peercred");

  /**
   * Other ways of running peercred's example, measured only when asked for and never counted as
   * peers: on a platform thread per connection ({@code peercred-threads}), which shows what the
   * library gives a thread-per-connection server.
   */
  static final List<String> PEERCRED_VARIANTS = List.of("peercred-threads");

  /** Every server a run may measure: the defaults and the variants. */
  static final List<String> ALL_SERVERS =
      Stream.concat(DEFAULT_SERVERS.stream(), PEERCRED_VARIANTS.stream()).toList();

  /** Servers that are native programs built by the runner, not Java. */
  static final List<String> NATIVE_SERVERS = List.of("c", "go");

  /**
   * Connections one holder process opens at most: two holders reach 19,000 (as many as a server may
   * hold under the 20,000-descriptor limit per process, with room for its own).
   */
  static final int PER_HOLDER = 9_500;

  static final int CLIENTS = 2;
  static final int BIG_LINE = 4096;

  /** What one server measured in one round. */
  record Result(
      String server,
      double connectsPerSecond,
      double cpuPerConnectMicros,
      double p50Micros,
      double p99Micros,
      double cpuPerRoundTripMicros,
      double megabytesPerSecond,
      double cpuPerMegabyteMillis,
      double idleRssMiB,
      double heldRssMiB,
      double heldHeapMiB,
      int held,
      double heldKiBPerConnection,
      double heldP50Micros,
      double heldP99Micros,
      double heldCpuPerRoundTripMicros,
      double warmUpSeconds,
      boolean steady) {}

  /** Settings of one run. */
  record Settings(
      List<String> servers,
      double seconds,
      double steadySeconds,
      int held,
      int rounds,
      boolean jmh,
      String jmhArgs,
      Path out,
      Path work,
      String command) {}

  static final String USAGE =
      """
      usage: ./peercred-benchmarks/run.sh [--option value]...
        --servers LIST    which echo servers, in order (default %s;
                          also known: %s)
        --seconds S       length of each scenario per server, after a warm-up (default 5)
        --steady S        the warm-up goes on until the server's RSS has grown by less than
                          %s MiB in S seconds, at most %d S (default 5; 0: no such wait)
        --rounds N        how many times each server runs every scenario (default 1)
        --held N          connections held open for the memory scenario, 0 for none (default 19000)
        --jmh BOOL        run the JMH benchmarks too (default true)
        --jmh-args ARGS   arguments for JMH (default "-f 1 -wi 3 -w 1s -i 5 -r 1s")
        --out FILE        the report to write (default docs/benchmarks.md)
        --work DIR        where servers are built and logs go
        --command TEXT    the command line the report names
      """
          .formatted(
              String.join(",", DEFAULT_SERVERS),
              String.join(",", PEERCRED_VARIANTS),
              Runner.STEADY_GROWTH_MIB,
              Runner.STEADY_LIMIT);

  public static void main(String[] args) throws Exception {
    Settings settings;
    try {
      settings = settings(args);
    } catch (IllegalArgumentException e) {
      System.err.println("run.sh: " + e.getMessage());
      System.err.print(USAGE);
      System.exit(2);
      return;
    }
    if (settings == null) {
      System.out.print(USAGE);
      return;
    }
    String markdown = run(settings);
    System.out.println(markdown);
  }

  private static final Set<String> OPTIONS =
      Set.of(
          "servers",
          "seconds",
          "steady",
          "rounds",
          "held",
          "jmh",
          "jmh-args",
          "out",
          "work",
          "command");

  /**
   * The settings {@code args} give; null if they ask for help.
   *
   * @throws IllegalArgumentException naming the argument that is wrong
   */
  static Settings settings(String... args) {
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--help") || args[i].equals("-h")) {
        return null;
      }
      String name = args[i].startsWith("--") ? args[i].substring(2) : null;
      if (name == null || !OPTIONS.contains(name)) {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
      if (i + 1 == args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      options.put(name, args[i + 1]);
    }
    List<String> servers =
        List.of(options.getOrDefault("servers", String.join(",", DEFAULT_SERVERS)).split(","));
    for (String server : servers) {
      if (!ALL_SERVERS.contains(server)) {
        throw new IllegalArgumentException(
            "--servers: unknown server \"" + server + "\" (known: " + ALL_SERVERS + ")");
      }
    }
    String jmh = options.getOrDefault("jmh", "true");
    if (!jmh.equals("true") && !jmh.equals("false")) {
      throw new IllegalArgumentException("--jmh: expected true or false, got \"" + jmh + "\"");
    }
    return new Settings(
        servers,
        number(options, "seconds", "5", Double::parseDouble, 0.1),
        number(options, "steady", "5", Double::parseDouble, 0),
        number(options, "held", "19000", Integer::parseInt, 0),
        number(options, "rounds", "1", Integer::parseInt, 1),
        Boolean.parseBoolean(jmh),
        options.getOrDefault("jmh-args", "-f 1 -wi 3 -w 1s -i 5 -r 1s"),
        Path.of(options.getOrDefault("out", "docs/benchmarks.md")),
        Path.of(options.getOrDefault("work", "target")),
        options.getOrDefault("command", "Runner " + String.join(" ", args)));
  }

  private static <T extends Number> T number(
      Map<String, String> options,
      String name,
      String fallback,
      Function<String, T> parse,
      double least) {
    String text = options.getOrDefault(name, fallback);
    T value;
    try {
      value = parse.apply(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + name + ": not a number: \"" + text + "\"");
    }
    if (!(value.doubleValue() >= least)) {
      throw new IllegalArgumentException(
          "--" + name + ": must be at least " + least + ", got " + text);
    }
    return value;
  }

  /** Runs the whole benchmark and writes the Markdown report; returns it. */
  static String run(Settings s) throws Exception {
    Files.createDirectories(s.work());
    String loadBefore = Files.readString(Path.of("/proc/loadavg")).strip();
    Instant started = Instant.now();
    Map<String, List<Result>> results = new LinkedHashMap<>();
    Map<String, Path> binaries = new LinkedHashMap<>();
    List<String> servers = new ArrayList<>();
    for (String server : s.servers()) {
      if (server.equals("c")) {
        binaries.put(server, buildC(s.work()));
      } else if (server.equals("go")) {
        Path go = buildGo(s.work());
        if (go == null) {
          continue;
        }
        binaries.put(server, go);
      }
      servers.add(server);
    }
    Map<String, Path> fleet = new LinkedHashMap<>();
    for (String server : servers) {
      fleet.put(server, binaries.get(server));
    }
    for (int round = 0; round < s.rounds(); round++) {
      log("round " + (round + 1));
      for (Result r : round(fleet, s).values()) {
        results.computeIfAbsent(r.server(), k -> new ArrayList<>()).add(r);
        log(
            "  "
                + r.server()
                + ": "
                + f(r.connectsPerSecond(), 0)
                + " connects/s, p50 "
                + f(r.p50Micros(), 1)
                + " µs, "
                + f(r.megabytesPerSecond(), 0)
                + " MB/s, "
                + f(r.heldKiBPerConnection(), 1)
                + " KiB per held connection, warmed up in "
                + f(r.warmUpSeconds(), 1)
                + " s"
                + (r.steady() ? "" : " (RSS still growing)"));
      }
    }
    List<String[]> jmh = s.jmh() ? runJmh(s) : List.of();
    String loadAfter = Files.readString(Path.of("/proc/loadavg")).strip();
    String markdown = Report.markdown(s, results, jmh, started, loadBefore, loadAfter);
    if (s.out().getParent() != null) {
      Files.createDirectories(s.out().getParent());
    }
    Files.writeString(s.out(), markdown);
    log("wrote " + s.out().toAbsolutePath());
    return markdown;
  }

  static void log(String message) {
    System.err.println("[bench " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "] " + message);
  }

  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }

  static List<String> javaCommand(String mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(java());
    command.add("--enable-native-access=ALL-UNNAMED");
    command.add("--sun-misc-unsafe-memory-access=allow");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(Arrays.asList(args));
    return command;
  }

  /**
   * The command starting a Java server; JVM options in the environment variable {@code
   * BENCH_SERVER_JVM_ARGS} (for example a JFR recording) are added to it.
   */
  static List<String> serverCommand(String server, Path socket) {
    List<String> command = javaCommand(Servers.class.getName(), server, socket.toString());
    String extra = System.getenv("BENCH_SERVER_JVM_ARGS");
    if (extra != null && !extra.isBlank()) {
      command.addAll(1, Arrays.asList(extra.strip().split("\\s+")));
    }
    return command;
  }

  /** Compiles the C server into the work directory (once per run). */
  static Path buildC(Path work) throws IOException, InterruptedException {
    Path binary = work.resolve("echo-c");
    Path source = Path.of(System.getProperty("bench.csource", "src/main/c/echo.c"));
    if (!Files.exists(source)) {
      source = Path.of("peercred-benchmarks/src/main/c/echo.c");
    }
    Process gcc =
        new ProcessBuilder("gcc", "-O2", "-pthread", "-o", binary.toString(), source.toString())
            .inheritIO()
            .start();
    if (gcc.waitFor() != 0) {
      throw new IOException("gcc failed on " + source);
    }
    return binary;
  }

  /**
   * Builds the Go server into the work directory, offline, from Debian's packages ({@code
   * golang-go}, {@code golang-golang-x-sys-dev}); returns null, saying why loudly, if it cannot.
   */
  static Path buildGo(Path work) throws IOException, InterruptedException {
    Path binary = work.resolve("echo-go").toAbsolutePath();
    Path source = Path.of(System.getProperty("bench.gosource", "src/main/go/echo.go"));
    if (!Files.exists(source)) {
      source = Path.of("peercred-benchmarks/src/main/go/echo.go");
    }
    ProcessBuilder build =
        new ProcessBuilder(
                "go", "build", "-o", binary.toString(), source.toAbsolutePath().toString())
            .directory(work.toFile())
            .redirectErrorStream(true);
    build.environment().put("GO111MODULE", "off");
    build.environment().putIfAbsent("GOPATH", "/usr/share/gocode");
    build
        .environment()
        .putIfAbsent("GOCACHE", work.resolve("go-cache").toAbsolutePath().toString());
    String output;
    int rc;
    try {
      Process go = build.start();
      output = new String(go.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      rc = go.waitFor();
    } catch (IOException e) {
      output = e.getMessage();
      rc = -1;
    }
    if (rc != 0) {
      String banner = "*".repeat(72);
      System.err.println(banner);
      System.err.println(
          "SKIPPING the Go server: `go build` of " + source + " failed (" + output + ")");
      System.err.println("Install it with: apt-get install golang-go golang-golang-x-sys-dev");
      System.err.println(banner);
      return null;
    }
    return binary;
  }

  /** The load before the idle RSS is read: the same whatever the scenarios' length. */
  static final long HELD_WARM_UP_NANOS = 200_000_000L;

  /**
   * How long each turn of a server is in a scenario: the servers take turns so that each meets the
   * machine as it is in the same seconds (on a shared VM its speed swings from one second to the
   * next, and a scenario run by one server after another measured that as much as the servers).
   */
  static final long SLICE_NANOS = 500_000_000L;

  /** Runs one server alone through a whole round (see {@link #round}). */
  static Result measure(String server, Path binary, Settings s) throws Exception {
    Map<String, Path> one = new LinkedHashMap<>();
    one.put(server, binary);
    return round(one, s).get(server);
  }

  /**
   * One round: starts every server (binary null for the Java ones), measures the held connections
   * of each in turn, warms each up, then runs every scenario in slices that rotate among the
   * servers, and stops them all. Returns each server's result, in the order given.
   */
  static Map<String, Result> round(Map<String, Path> servers, Settings s) throws Exception {
    List<ServerProcess> fleet = new ArrayList<>();
    try {
      for (var server : servers.entrySet()) {
        fleet.add(start(server.getKey(), server.getValue(), s));
      }
      for (ServerProcess p : fleet) {
        p.awaitReady();
      }
      long scenario = (long) (s.seconds() * 1e9);
      Map<ServerProcess, Double> idleRss = new LinkedHashMap<>();
      Map<ServerProcess, Held> held = new LinkedHashMap<>();
      for (ServerProcess p : fleet) {
        // Held connections first, after a short warm-up of the same length in every run: what a
        // JVM server's RSS grows by depends on how much heap the load before it made G1 touch,
        // so the held figure is taken before the scenarios (whose length --seconds sets) run.
        Load.connects(p.socket, CLIENTS, HELD_WARM_UP_NANOS);
        Load.pingPong(p.socket, CLIENTS, HELD_WARM_UP_NANOS);
        double idle = p.rssMiB();
        idleRss.put(p, idle);
        held.put(p, s.held() > 0 ? held(p, s, scenario, idle) : Held.NONE);
      }
      long warm = Math.max(scenario / 2, 200_000_000L);
      long steady = (long) (s.steadySeconds() * 1e9);
      Map<ServerProcess, WarmUp> warmUps = new LinkedHashMap<>();
      for (ServerProcess p : fleet) {
        warmUps.put(p, warmUp(p, warm, steady));
      }
      Map<ServerProcess, Tally> connects = interleave(fleet, scenario, Runner::connectSlice);
      Map<ServerProcess, Tally> pingPong = interleave(fleet, scenario, Runner::pingPongSlice);
      Map<ServerProcess, Tally> stream = interleave(fleet, scenario, Runner::streamSlice);
      Map<String, Result> results = new LinkedHashMap<>();
      for (ServerProcess p : fleet) {
        Tally c = connects.get(p);
        Tally r = pingPong.get(p);
        Tally t = stream.get(p);
        Held h = held.get(p);
        double mb = t.count() / 1e6;
        results.put(
            p.name,
            new Result(
                p.name,
                c.count() / (c.nanos() / 1e9),
                c.cpuNanos() / 1e3 / c.count(),
                percentile(r.latencies(), 0.50),
                percentile(r.latencies(), 0.99),
                r.cpuNanos() / 1e3 / r.count(),
                mb / (t.nanos() / 1e9),
                t.cpuNanos() / 1e6 / mb,
                idleRss.get(p),
                h.rssMiB(),
                h.heapMiB(),
                h.connections(),
                h.kibPerConnection(),
                percentile(h.latencies(), 0.50),
                percentile(h.latencies(), 0.99),
                h.cpuPerRoundTripMicros(),
                warmUps.get(p).seconds(),
                warmUps.get(p).steady()));
      }
      return results;
    } finally {
      for (ServerProcess p : fleet) {
        p.close();
      }
    }
  }

  /** How long a server's warm-up took, and whether its RSS had stopped growing by then. */
  record WarmUp(double seconds, boolean steady) {}

  private record Reading(long nanos, double rssMiB) {}

  /** RSS growth over the steady window below which a server counts as warmed up. */
  static final double STEADY_GROWTH_MIB = 1.0;

  /** The longest warm-up, in steady windows. */
  static final int STEADY_LIMIT = 12;

  /** The load between two RSS readings while waiting for a server to become steady. */
  static final long WARM_UP_STEP_NANOS = 500_000_000L;

  /**
   * Warms {@code p} up: {@code minimum} each of connects and ping-pong (the JIT compiles both
   * paths), then, unless {@code steady} is 0, steps of all three scenarios until its RSS has grown
   * by less than {@link #STEADY_GROWTH_MIB} over the last {@code steady}, for at most {@link
   * #STEADY_LIMIT} times {@code steady}. A JVM keeps enlarging its young generation over the first
   * collections, and until it stops, every new page the server allocates into costs a page fault:
   * on a VM that is tens of microseconds, a quarter of a connection's cost in the connect scenario.
   * A server whose memory stopped growing measures what it costs in the long run.
   */
  static WarmUp warmUp(ServerProcess p, long minimum, long steady) throws Exception {
    long start = System.nanoTime();
    Load.connects(p.socket, CLIENTS, minimum);
    Load.pingPong(p.socket, CLIENTS, minimum);
    if (steady == 0) {
      return new WarmUp((System.nanoTime() - start) / 1e9, true);
    }
    // RSS readings, oldest first: the newest one taken at least `steady` ago, and all since.
    List<Reading> readings = new ArrayList<>();
    long limit = start + STEADY_LIMIT * steady;
    while (true) {
      Reading now = new Reading(System.nanoTime(), p.rssMiB());
      readings.add(now);
      while (readings.size() > 1 && now.nanos() - readings.get(1).nanos() >= steady) {
        readings.remove(0);
      }
      Reading then = readings.get(0);
      double seconds = (now.nanos() - start) / 1e9;
      if (now.nanos() - then.nanos() >= steady
          && now.rssMiB() - then.rssMiB() < STEADY_GROWTH_MIB) {
        return new WarmUp(seconds, true);
      }
      if (now.nanos() - limit >= 0) {
        return new WarmUp(seconds, false);
      }
      connectSlice(p, WARM_UP_STEP_NANOS * 3 / 5);
      pingPongSlice(p, WARM_UP_STEP_NANOS / 5);
      streamSlice(p, WARM_UP_STEP_NANOS / 5);
    }
  }

  /** Starts the server {@code name}: the native {@code binary}, or the Java one if it is null. */
  static ServerProcess start(String name, Path binary, Settings s) throws IOException {
    Path socket = s.work().resolve("bench-" + name + ".sock").toAbsolutePath();
    Files.deleteIfExists(socket);
    List<String> command =
        binary != null
            ? List.of(binary.toString(), socket.toString())
            : serverCommand(name, socket);
    Process process =
        new ProcessBuilder(command)
            .redirectError(s.work().resolve("bench-" + name + ".log").toFile())
            .start();
    return new ServerProcess(name, process, socket);
  }

  /**
   * What a scenario measured of one server in one slice, or summed over its slices: operations (or
   * bytes), the time they took, the server's CPU meanwhile, and round-trip latencies.
   */
  record Tally(long count, long nanos, long cpuNanos, long[] latencies) {
    /** The slices together, their latencies in one sorted array. */
    static Tally sum(List<Tally> slices) {
      long count = 0;
      long nanos = 0;
      long cpuNanos = 0;
      int samples = 0;
      for (Tally t : slices) {
        count += t.count;
        nanos += t.nanos;
        cpuNanos += t.cpuNanos;
        samples += t.latencies.length;
      }
      long[] latencies = new long[samples];
      int at = 0;
      for (Tally t : slices) {
        System.arraycopy(t.latencies, 0, latencies, at, t.latencies.length);
        at += t.latencies.length;
      }
      Arrays.sort(latencies);
      return new Tally(count, nanos, cpuNanos, latencies);
    }
  }

  /** A turn of the connect scenario: connections done, in the time they took. */
  static Tally connectSlice(ServerProcess p, long nanos) throws IOException {
    long t0 = System.nanoTime();
    long n = Load.connects(p.socket, CLIENTS, nanos);
    return new Tally(n, System.nanoTime() - t0, 0, new long[0]);
  }

  /** A turn of the ping-pong: round trips and their latencies. */
  static Tally pingPongSlice(ServerProcess p, long nanos) throws IOException {
    long[] latencies = Load.pingPong(p.socket, CLIENTS, nanos);
    return new Tally(latencies.length, 0, 0, latencies);
  }

  /** A turn of the stream: bytes echoed back, in the time they took. */
  static Tally streamSlice(ServerProcess p, long nanos) throws IOException {
    long[] transfer = Load.throughput(p.socket, BIG_LINE, nanos);
    return new Tally(transfer[0], transfer[1], 0, new long[0]);
  }

  /** One server's turn in a scenario, {@code nanos} long. */
  interface Slice {
    Tally run(ServerProcess server, long nanos) throws Exception;
  }

  /**
   * Runs {@code slice} on every server in turn, in slices of about {@link #SLICE_NANOS}, until each
   * has had {@code total}; each rotation starts one server further on. Every slice's tally gets the
   * server's CPU over it.
   */
  static Map<ServerProcess, Tally> interleave(List<ServerProcess> fleet, long total, Slice slice)
      throws Exception {
    int slices = (int) Math.max(1, Math.round((double) total / SLICE_NANOS));
    long length = total / slices;
    Map<ServerProcess, List<Tally>> turns = new LinkedHashMap<>();
    for (ServerProcess p : fleet) {
      turns.put(p, new ArrayList<>());
    }
    for (int k = 0; k < slices; k++) {
      for (int i = 0; i < fleet.size(); i++) {
        ServerProcess p = fleet.get((k + i) % fleet.size());
        long cpu = p.cpuNanos();
        Tally t = slice.run(p, length);
        turns.get(p).add(new Tally(t.count(), t.nanos(), p.cpuNanos() - cpu, t.latencies()));
      }
    }
    Map<ServerProcess, Tally> tallies = new LinkedHashMap<>();
    turns.forEach((p, list) -> tallies.put(p, Tally.sum(list)));
    return tallies;
  }

  /** What the server held with {@code connections} open, and its ping-pong meanwhile. */
  record Held(
      int connections,
      double rssMiB,
      double heapMiB,
      double kibPerConnection,
      long[] latencies,
      double cpuPerRoundTripMicros) {
    static final Held NONE =
        new Held(0, Double.NaN, Double.NaN, Double.NaN, new long[0], Double.NaN);
  }

  /**
   * Opens {@code s.held()} connections from holder processes, reads the server's RSS and heap, runs
   * the ping-pong beside them, closes them and waits for every descriptor to come back.
   */
  static Held held(ServerProcess p, Settings s, long scenario, double idleRss) throws Exception {
    String server = p.name;
    Path socket = p.socket;
    int descriptors = p.descriptors();
    int held = 0;
    Held result;
    List<Process> holders = new ArrayList<>();
    try {
      for (int left = s.held(), i = 0; left > 0; left -= PER_HOLDER, i++) {
        holders.add(
            new ProcessBuilder(
                    javaCommand(
                        Holder.class.getName(),
                        socket.toString(),
                        Integer.toString(Math.min(left, PER_HOLDER))))
                .redirectError(s.work().resolve("bench-holder-" + i + ".log").toFile())
                .start());
      }
      for (Process holder : holders) {
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("held ")) {
          throw new IOException(server + ": holder failed: " + line);
        }
        held += Integer.parseInt(line.substring(5).strip());
      }
      Thread.sleep(500); // let the server settle
      double rss = p.rssMiB();
      double heap = p.heapMiB();
      long cpu = p.cpuNanos();
      long[] latencies = Load.pingPong(socket, CLIENTS, scenario);
      double cpuPerRoundTrip = (p.cpuNanos() - cpu) / 1e3 / latencies.length;
      result = new Held(held, rss, heap, (rss - idleRss) * 1024 / held, latencies, cpuPerRoundTrip);
    } finally {
      for (Process holder : holders) {
        holder.getOutputStream().close();
      }
      for (Process holder : holders) {
        if (!holder.waitFor(30, TimeUnit.SECONDS)) {
          holder.destroyForcibly();
        }
      }
    }
    p.awaitDescriptors(descriptors, held);
    return result;
  }

  static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int index = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
    return sorted[Math.max(0, index)] / 1e3;
  }

  /** Runs the JMH benchmarks of this module in a JVM of their own; returns CSV rows. */
  static List<String[]> runJmh(Settings s) throws IOException, InterruptedException {
    log("JMH");
    Path csv = s.work().resolve("jmh.csv").toAbsolutePath();
    List<String> command = new ArrayList<>();
    command.addAll(javaCommand("org.openjdk.jmh.Main"));
    command.addAll(Arrays.asList(s.jmhArgs().split(" ")));
    command.addAll(List.of("-rf", "csv", "-rff", csv.toString(), "dev.peercred.benchmarks.*"));
    Process jmh =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(s.work().resolve("jmh.log").toFile())
            .start();
    if (jmh.waitFor() != 0) {
      throw new IOException("JMH failed, see " + s.work().resolve("jmh.log"));
    }
    List<String> lines = Files.readAllLines(csv);
    String[] header = lines.get(0).replace("\"", "").split(",");
    List<String[]> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",", -1);
      for (int i = 0; i < cells.length; i++) {
        cells[i] = cells[i].replace("\"", "");
      }
      // The benchmark's parameters (columns "Param: NAME") become part of its name.
      for (int i = 7; i < cells.length && i < header.length; i++) {
        if (!cells[i].isEmpty()) {
          cells[0] += " " + header[i].replace("Param: ", "") + "=" + cells[i];
        }
      }
      rows.add(cells);
    }
    return rows;
  }

  /** A running server: its pid's counters from /proc, and its control channel. */
  static final class ServerProcess implements AutoCloseable {
    private static final long TICK_NANOS = 10_000_000L; // USER_HZ is 100 on Linux
    final String name;
    final Process process;
    final Path socket;
    final BufferedReader stdout;
    final OutputStream stdin;

    ServerProcess(String name, Process process, Path socket) {
      this.name = name;
      this.process = process;
      this.socket = socket;
      this.stdout =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.stdin = process.getOutputStream();
    }

    void awaitReady() throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IOException(name + " server exited with " + process.exitValue());
        }
        if (Files.exists(socket)) {
          try (var channel = Load.open(socket)) {
            Load.roundTrip(channel, java.nio.ByteBuffer.allocate(64));
            return;
          } catch (IOException e) {
            // not yet
          }
        }
        Thread.sleep(20);
      }
      throw new IOException(name + " server did not start");
    }

    /** utime + stime of the whole process, from /proc/PID/stat. */
    long cpuNanos() throws IOException {
      String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * TICK_NANOS;
    }

    /** VmRSS from /proc/PID/status, in MiB. */
    double rssMiB() throws IOException {
      for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
      return Double.NaN;
    }

    /** Open descriptors of the server, from /proc/PID/fd. */
    int descriptors() throws IOException {
      try (var fds = Files.list(Path.of("/proc/" + process.pid() + "/fd"))) {
        return (int) fds.count();
      }
    }

    /**
     * Waits (up to 30 s) until the server is back to {@code baseline} descriptors after its {@code
     * held} clients went away; fails the scenario if it is not.
     */
    void awaitDescriptors(int baseline, int held) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      int open = descriptors();
      while (open > baseline && System.nanoTime() < deadline) {
        Thread.sleep(50);
        open = descriptors();
      }
      if (open > baseline) {
        throw new IOException(
            name
                + ": "
                + (open - baseline)
                + " of "
                + held
                + " descriptors still open 30 s after their clients closed");
      }
    }

    /** Heap in use after a full collection, in MiB; NaN for the native servers. */
    double heapMiB() throws IOException {
      if (NATIVE_SERVERS.contains(name)) {
        return Double.NaN;
      }
      stdin.write("heap\n".getBytes(StandardCharsets.UTF_8));
      stdin.flush();
      String line;
      do {
        line = stdout.readLine();
      } while (line != null && !line.startsWith("heap "));
      if (line == null) {
        return Double.NaN;
      }
      return Long.parseLong(line.split(" ")[1]) / 1048576.0;
    }

    @Override
    public void close() throws IOException {
      try {
        stdin.close();
      } catch (IOException e) {
        // already gone
      }
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor();
        }
      } catch (InterruptedException e) {
        process.destroyForcibly();
        Thread.currentThread().interrupt();
      }
      Files.deleteIfExists(socket);
    }
  }

  static String f(double value, int decimals) {
    return Double.isNaN(value) ? "–" : String.format(Locale.ROOT, "%,." + decimals + "f", value);
  }
}
