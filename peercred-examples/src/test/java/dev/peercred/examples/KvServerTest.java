package dev.peercred.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.UnixListener;
import dev.peercred.policy.Audit;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.PythonClient;
import dev.peercred.testing.Tools;
import dev.peercred.testing.Users;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The key-value daemon with readers, writers and others as three different real uids. */
@Timeout(300)
class KvServerTest {
  private static final long READER = 1001;
  private static final long WRITER = 1002;
  private static final long OTHER = 1003;

  @TempDir Path dir;

  /** Sends argv[2] line by line, printing each answer line, then what is left at end of stream. */
  private static final String CLIENT =
      """
      import socket, sys
      s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      s.connect(sys.argv[1])
      f = s.makefile('rwb')
      for line in sys.argv[2].split('\\n'):
          if not line:
              continue
          f.write((line + '\\n').encode()); f.flush()
          answer = f.readline()
          if not answer:
              break
          sys.stdout.write(answer.decode())
      s.shutdown(socket.SHUT_WR)
      sys.stdout.write(f.read().decode())
      """;

  private static String run(Path socket, long uid, String commands) throws Exception {
    ChildProcess.Result result =
        ChildProcess.run(
            PythonClient.as(
                Users.as(uid, uid), ExampleClients.python(CLIENT, socket.toString(), commands)));
    assertEquals(0, result.exitCode(), result.toString());
    return result.stdout();
  }

  @Test
  void readersGetWritersSetOthersAreRefusedAndEveryCommandIsAudited() throws Exception {
    Users.assumeRoot();
    Tools.python3();
    Tools.require(Users.SETPRIV);
    List<String> audit = new CopyOnWriteArrayList<>();
    Logger jul = Logger.getLogger(Audit.LOGGER_NAME);
    Handler handler =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            audit.add(r.getMessage());
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    jul.addHandler(handler);
    jul.setLevel(Level.ALL);
    Users.openToEveryone(dir);
    Path socket = dir.resolve("kv.sock");
    try (KvServer server =
        new KvServer(
            UnixListener.bind(socket),
            KvServer.principals(List.of(Long.toString(READER))),
            KvServer.principals(List.of(Long.toString(WRITER))))) {
      Users.openToEveryone(socket);
      Thread.ofVirtual().start(server::run);

      assertEquals(
          "ok\nok blue\nok\n", run(socket, WRITER, "set color blue\nget color\nset n 2 3\n"));
      assertEquals(
          "ok blue\nok 2 3\nnot found\ndenied\nerror: unknown command (get KEY, set KEY VALUE)\n",
          run(socket, READER, "get color\nget n\nget missing\nset color red\ndrop color\n"));
      assertEquals("Unauthorized access\n", run(socket, OTHER, "get color\n"));
      assertEquals("ok blue\n", run(socket, WRITER, "get color\n"));
      assertEquals(1, server.listener().refusals());
      String tooLong = "get " + "k".repeat(KvServer.MAX_LINE);
      assertEquals("error: line longer than 4096 bytes\n", run(socket, READER, tooLong + "\n"));
    } finally {
      jul.removeHandler(handler);
    }
    assertTrue(
        audit.stream()
            .anyMatch(
                l ->
                    l.startsWith("command set DENY ")
                        && l.contains("uid=" + READER)
                        && l.matches(".* pid=\\d+ .*")),
        audit.toString());
    assertTrue(
        audit.stream()
            .anyMatch(l -> l.startsWith("command set ALLOW ") && l.contains("uid=" + WRITER)),
        audit.toString());
    assertTrue(
        audit.stream()
            .anyMatch(l -> l.startsWith("command get ALLOW ") && l.contains("uid=" + READER)),
        audit.toString());
    assertTrue(
        audit.stream()
            .anyMatch(l -> l.startsWith("connection DENY ") && l.contains("uid=" + OTHER)),
        audit.toString());
  }

  @Test
  void principalsAcceptUidsUsersAndGroups() {
    KvServer.principals(List.of("1000", "user:daemon", "group:adm", "adm"));
    assertThrows(IllegalArgumentException.class, () -> KvServer.principals(List.of("user:a b")));
    assertThrows(IllegalArgumentException.class, () -> KvServer.principals(List.of("99999999999")));
  }
}
