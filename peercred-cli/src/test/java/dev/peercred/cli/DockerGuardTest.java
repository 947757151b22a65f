package dev.peercred.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code peercred proxy --http} in front of a real Docker Engine, driven by the real {@code docker}
 * command as root and as another user. The engine runs without networking or a bridge, on the vfs
 * storage driver, with an image imported from the machine's busybox; it is stopped gracefully at
 * the end so that nothing stays mounted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DockerGuardTest {
  private static final Duration COMMAND = Duration.ofSeconds(120);

  private Path dir;
  private Process dockerd;
  private Path engine;
  private Path guard;
  private Path audit;
  private Cli.Running proxy;

  @BeforeAll
  void startEngineAndGuard(@TempDir Path dir) throws Exception {
    this.dir = dir;
    Cli.assumeInstalled("dockerd");
    Cli.assumeInstalled("docker");
    Cli.assumeInstalled("busybox");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    engine = dir.resolve("docker.sock");
    dockerd =
        new ProcessBuilder(
                "dockerd",
                "--host",
                "unix://" + engine,
                "--iptables=false",
                "--ip6tables=false",
                "--bridge=none",
                "--storage-driver=vfs",
                "--data-root",
                dir.resolve("data").toString(),
                "--exec-root",
                dir.resolve("exec").toString(),
                "--pidfile",
                dir.resolve("dockerd.pid").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("dockerd.log").toFile())
            .start();
    awaitEngine();
    importBusybox();

    Path rules = dir.resolve("rules");
    Files.writeString(
        rules,
        """
        allow uid 0                                   # root may do anything
        allow uid 65534 http GET,HEAD /_ping
        allow uid 65534 http GET /version
        allow uid 65534 http GET /containers/json
        allow uid 65534 http GET /containers/{id}/json
        """);
    guard = dir.resolve("guard.sock");
    audit = dir.resolve("audit.jsonl");
    proxy =
        new Cli.Running(
            Cli.peercred(
                "proxy",
                "--http",
                "--listen",
                guard.toString(),
                "--mode",
                "0666",
                "--to",
                engine.toString(),
                "--policy",
                rules.toString(),
                "--audit",
                audit.toString()),
            null);
    proxy.awaitErr(line -> line.contains("listening on"), COMMAND);
  }

  private void awaitEngine() throws Exception {
    long deadline = System.nanoTime() + COMMAND.toNanos();
    while (true) {
      if (!dockerd.isAlive()) {
        throw new AssertionError(
            "dockerd exited with "
                + dockerd.exitValue()
                + ":\n"
                + Files.readString(dir.resolve("dockerd.log")));
      }
      if (Files.exists(engine) && docker(engine, 0, "version").exitCode() == 0) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "dockerd did not answer within "
                + COMMAND
                + ":\n"
                + Files.readString(dir.resolve("dockerd.log")));
      }
      dockerd.waitFor(200, TimeUnit.MILLISECONDS); // waits for the engine or its exit
    }
  }

  private void importBusybox() throws Exception {
    Path root = Files.createDirectories(dir.resolve("rootfs/bin"));
    Files.copy(Path.of(which("busybox")), root.resolve("busybox"));
    for (String applet : List.of("sh", "echo", "cat", "sleep")) {
      Files.createSymbolicLink(root.resolve(applet), Path.of("busybox"));
    }
    Cli.Result imported =
        Cli.run(
            List.of(
                "sh",
                "-c",
                "tar -C \"$1\" -c . | docker -H \"unix://$2\" import - bb:latest",
                "import",
                dir.resolve("rootfs").toString(),
                engine.toString()),
            COMMAND);
    assertEquals(0, imported.exitCode(), imported.stderr());
  }

  private static String which(String program) {
    for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(d, program))) {
        return Path.of(d, program).toString();
      }
    }
    throw new AssertionError(program + " is not on the PATH");
  }

  @AfterAll
  void stopEverything() throws Exception {
    if (proxy != null) {
      proxy.close();
    }
    if (dockerd != null && dockerd.isAlive()) {
      Cli.Result containers = docker(engine, 0, "ps", "-aq");
      for (String id : containers.out().split("\\s+")) {
        if (!id.isBlank()) {
          docker(engine, 0, "rm", "-f", id);
        }
      }
      dockerd.destroy(); // SIGTERM: the engine stops its containers and unmounts
      if (!dockerd.waitFor(60, TimeUnit.SECONDS)) {
        dockerd.destroyForcibly();
        throw new AssertionError("dockerd did not stop within 60 s");
      }
    }
  }

  /** Runs {@code docker -H unix://SOCKET ARGS...} as {@code uid} and returns what it did. */
  private Cli.Result docker(Path socket, long uid, String... args) throws Exception {
    return dockerWithInput(socket, uid, null, args);
  }

  private Cli.Result dockerWithInput(Path socket, long uid, String input, String... args)
      throws Exception {
    List<String> command = new ArrayList<>();
    if (uid != 0) {
      command.addAll(Cli.asUser(uid, uid));
    }
    Path config = Files.createDirectories(dir.resolve("config-" + uid));
    if (uid != 0) {
      Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rwxrwxrwx"));
    }
    command.addAll(List.of("env", "DOCKER_CONFIG=" + config, "HOME=" + config, "docker"));
    command.addAll(List.of("-H", "unix://" + socket));
    command.addAll(List.of(args));
    if (input == null) {
      return Cli.run(command, COMMAND);
    }
    Path stdin = dir.resolve("stdin-" + System.nanoTime());
    Files.writeString(stdin, input);
    List<String> shell =
        new ArrayList<>(List.of("sh", "-c", "exec \"$@\" < " + quote(stdin), "docker"));
    shell.addAll(command);
    return Cli.run(shell, COMMAND);
  }

  private static String quote(Path path) {
    return "'" + path.toString().replace("'", "'\\''") + "'";
  }

  private static void assertOk(Cli.Result result) {
    assertEquals(0, result.exitCode(), "stdout: " + result.out() + "\nstderr: " + result.stderr());
  }

  @Test
  void rootRunsContainersWithAttachExecAndStdinThroughTheGuard() throws Exception {
    assertOk(docker(guard, 0, "ps"));
    Cli.Result run =
        docker(guard, 0, "run", "--rm", "--network", "none", "bb:latest", "echo", "hi");
    assertOk(run);
    assertEquals("hi\n", run.out());
    Cli.Result piped =
        dockerWithInput(
            guard,
            0,
            "hello stdin\n",
            "run",
            "-i",
            "--rm",
            "--network",
            "none",
            "bb:latest",
            "cat");
    assertOk(piped);
    assertEquals("hello stdin\n", piped.out()); // half-close crossed the hijacked stream
    Cli.Result started =
        docker(guard, 0, "run", "-d", "--network", "none", "bb:latest", "sleep", "300");
    assertOk(started);
    String id = started.out().strip();
    Cli.Result exec = dockerWithInput(guard, 0, "into exec\n", "exec", "-i", id, "cat");
    assertOk(exec);
    assertEquals("into exec\n", exec.out());
    Cli.Result inspect = docker(guard, 0, "inspect", "-f", "{{.State.Running}}", id);
    assertOk(inspect);
    assertEquals("true\n", inspect.out());
    assertOk(docker(guard, 0, "rm", "-f", id));
  }

  @Test
  void anotherUserMayListAndInspectButNotRun() throws Exception {
    Cli.Result started =
        docker(engine, 0, "run", "-d", "--network", "none", "bb:latest", "sleep", "300");
    assertOk(started);
    String id = started.out().strip();
    Cli.Result ps = docker(guard, 65534, "ps");
    assertOk(ps);
    assertTrue(ps.out().contains(id.substring(0, 12)), ps.out());
    assertOk(docker(guard, 65534, "inspect", id));
    Cli.Result run = docker(guard, 65534, "run", "--rm", "bb:latest", "echo", "no");
    assertEquals(125, run.exitCode(), run.stderr());
    assertTrue(
        run.stderr()
            .contains(
                "Error response from daemon: peercred: uid 65534 may not POST /containers/create"
                    + " (no rule allows it)"),
        run.stderr());
    Cli.Result stop = docker(guard, 65534, "rm", "-f", id);
    assertTrue(stop.exitCode() != 0, "removal refused");
    assertEquals("true\n", docker(engine, 0, "inspect", "-f", "{{.State.Running}}", id).out());
    String records = Files.readString(audit, StandardCharsets.UTF_8);
    assertTrue(
        records.contains("\"uid\":65534")
            && records.contains("\"route\":\"/containers/create\"")
            && records.contains("\"decision\":\"deny\""),
        records);
    assertOk(docker(engine, 0, "rm", "-f", id));
  }

  @Test
  void everyVersionPrefixTheEngineRoutesIsRemovedBeforeMatching() throws Exception {
    // The Engine routes /v{version:[0-9.]+}/...: a four-part version reaches the same endpoint.
    String direct = Cli.curlStatusAndBody(engine, 0, "GET", "/v1.41.0.0/containers/json");
    assertTrue(direct.startsWith("200 ["), direct);
    String listed = Cli.curlStatusAndBody(guard, 65534, "GET", "/v1.41.0.0/containers/json");
    assertTrue(listed.startsWith("200 ["), listed);
    String created = Cli.curlStatusAndBody(guard, 65534, "POST", "/v1.41.0.0/containers/create");
    assertTrue(created.startsWith("403 "), created);
    // /session needs a rule that names it, whatever prefix comes before it: 'allow uid 0' is not
    String session = Cli.curlStatusAndBody(guard, 0, "POST", "/v1.41.0.0/session");
    assertTrue(
        session.startsWith("403 {\"message\":\"peercred: uid 0 may not POST /session ("), session);
  }
}
