package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.internal.linux.Pidfd;
import dev.peercred.testing.ChildProcess;
import dev.peercred.testing.Tools;
import dev.peercred.testing.Users;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Identities of real peer processes run as other users, before and after they exit. */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PeerProcessTest {
  @TempDir Path dir;

  private UnixListener listen() throws IOException {
    Users.openToEveryone(dir);
    Path path = dir.resolve("s");
    UnixListener listener = UnixListener.bind(path);
    Users.openToEveryone(path);
    return listener;
  }

  /** Accepts the client's connection and waits for its first line, so it surely runs. */
  private static UnixConnection acceptHello(UnixListener listener) throws IOException {
    UnixConnection connection = listener.accept();
    byte[] hello = new byte[3];
    int n = 0;
    while (n < 3) {
      int r = connection.inputStream().read(hello, n, 3 - n);
      if (r < 0) {
        throw new IOException("client closed early");
      }
      n += r;
    }
    return connection;
  }

  @Test
  void clientStartedWithSetprivShowsExactlyItsIdsAndGroups() throws Exception {
    try (UnixListener listener = listen();
        ChildProcess client =
            PeerClients.startPythonAs(1234, 2345, List.of(4L, 27L, 100L), dir.resolve("s"))) {
      try (UnixConnection connection = acceptHello(listener)) {
        PeerIdentity identity = connection.peerIdentity();
        assertEquals(1234, identity.uid());
        assertEquals(2345, identity.gid());
        assertEquals(List.of(4L, 27L, 100L), identity.groups());
        assertEquals(List.of(4L, 27L, 100L), identity.mappedGroups());
        assertTrue(identity.hasGroup(27));
        assertTrue(identity.hasGroup(2345));
        assertFalse(identity.hasGroup(0));
        assertEquals(List.of("adm", "sudo", "users"), identity.groupNames());
        assertEquals(client.pid(), identity.pid().orElseThrow());
      }
      client.assertExit(0);
    }
  }

  @Test
  void manyGroupsAreReadInFullAfterTheKernelAsksForMoreRoom() throws Exception {
    List<Long> groups = new java.util.ArrayList<>();
    for (long g = 1000; g < 1100; g++) {
      groups.add(g); // more than the first SO_PEERGROUPS buffer holds: ERANGE, then a retry
    }
    try (UnixListener listener = listen();
        ChildProcess client = PeerClients.startPythonAs(1234, 2345, groups, dir.resolve("s"))) {
      try (UnixConnection connection = acceptHello(listener)) {
        assertEquals(groups, connection.peerIdentity().groups());
      }
      client.assertExit(0);
    }
  }

  @Test
  void executableAndCommandLineAreThoseOfTheRealBinary() throws Exception {
    Path socket = dir.resolve("s");
    try (UnixListener listener = listen();
        ChildProcess client = PeerClients.startPythonAs(65534, 65534, List.of(), socket)) {
      try (UnixConnection connection = acceptHello(listener)) {
        PeerProcess process = connection.peerIdentity().process().orElseThrow();
        assertEquals(client.pid(), process.pid());
        assertEquals(PeerIdentity.canPinProcesses(), process.isPinned());
        assertEquals(Tools.python3().toRealPath(), process.executable());
        assertEquals(PeerClients.pythonCommand(socket), process.commandLine());
        assertEquals(
            client.process().info().startInstant().orElseThrow().getEpochSecond(),
            process.startTime().getEpochSecond(),
            1);
        PeerProcess parent = process.parent().orElseThrow();
        assertEquals(ProcessHandle.current().pid(), parent.pid(), "we started it");
        assertEquals(PeerIdentity.canPinProcesses(), parent.isPinned());
      }
      client.assertExit(0);
    }
  }

  @Test
  void afterThePeerExitsTheHandleSaysGoneAndGivesNoStaleData() throws Exception {
    try (UnixListener listener = listen();
        ChildProcess client =
            PeerClients.startPythonAs(65534, 65534, List.of(), dir.resolve("s"))) {
      try (UnixConnection connection = acceptHello(listener)) {
        PeerIdentity identity = connection.peerIdentity();
        PeerProcess process = identity.process().orElseThrow();
        assertTrue(process.isAlive());
        connection.shutdownOutput(); // the client exits on end of stream
        client.assertExit(0);
        assertFalse(process.isAlive());
        assertThrows(PeerProcessGoneException.class, process::executable);
        assertThrows(PeerProcessGoneException.class, process::commandLine);
        assertThrows(PeerProcessGoneException.class, process::cgroup);
        assertThrows(PeerProcessGoneException.class, process::parent);
        // the snapshot of connect time stays readable: it describes the peer as it connected
        assertEquals(List.of(), identity.groups());
        assertEquals(65534, identity.uid());
      }
    }
  }

  @Test
  void prefetchPinsTheProcessAtOnceSoItsExitIsReportedLater() throws Exception {
    try (UnixListener listener = listen();
        ChildProcess client =
            PeerClients.startPythonAs(65534, 65534, List.of(), dir.resolve("s"))) {
      try (UnixConnection connection = acceptHello(listener)) {
        PeerIdentity identity = connection.peerIdentity().prefetch();
        connection.shutdownOutput();
        client.assertExit(0);
        PeerProcess process = identity.process().orElseThrow(); // pinned before the exit
        assertEquals(client.pid(), process.pid());
        assertFalse(process.isAlive());
        assertThrows(PeerProcessGoneException.class, process::commandLine);
        assertEquals(List.of(), identity.groups());
      }
    }
  }

  @Test
  void aPeerThatExitedBeforeItsProcessWasRequestedIsGone() throws Exception {
    try (UnixListener listener = listen();
        ChildProcess client =
            PeerClients.startPythonAs(65534, 65534, List.of(), dir.resolve("s"))) {
      try (UnixConnection connection = acceptHello(listener)) {
        connection.shutdownOutput();
        client.assertExit(0);
        PeerIdentity identity = connection.peerIdentity();
        assertThrows(PeerProcessGoneException.class, identity::process);
        assertThrows(PeerProcessGoneException.class, identity::process, "and stays gone");
        assertEquals(65534, identity.uid(), "the credentials are a snapshot of connect time");
      }
    }
  }

  @Test
  void namesResolveForNobodyAndAreEmptyForIdsWithoutAnEntry() throws Exception {
    try (UnixListener listener = listen()) {
      try (ChildProcess nobody =
          PeerClients.startPythonAs(65534, 65534, List.of(), dir.resolve("s"))) {
        try (UnixConnection connection = acceptHello(listener)) {
          assertEquals("nobody", connection.peerIdentity().userName().orElseThrow());
          assertEquals("nogroup", connection.peerIdentity().groupName().orElseThrow());
        }
        nobody.assertExit(0);
      }
      try (ChildProcess stranger =
          PeerClients.startPythonAs(54321, 54322, List.of(54323L), dir.resolve("s"))) {
        try (UnixConnection connection = acceptHello(listener)) {
          assertTrue(connection.peerIdentity().userName().isEmpty());
          assertTrue(connection.peerIdentity().groupName().isEmpty());
          assertEquals(List.of(), connection.peerIdentity().groupNames());
          assertEquals(List.of(54323L), connection.peerIdentity().groups());
        }
        stranger.assertExit(0);
      }
    }
  }

  @Test
  void withoutSoPeerPidfdTheProcessIsKnownByStartTimeAndNotPinned() throws Exception {
    Path socket = dir.resolve("s");
    try (UnixListener listener = listen();
        ChildProcess client = PeerClients.startPythonAs(65534, 65534, List.of(), socket)) {
      try (UnixConnection connection = acceptHello(listener)) {
        PeerIdentity identity = connection.peerIdentity();
        identity.usePeerPidfd = false; // as on a kernel before 6.5
        long before = PeerIdentityTest.openDescriptors();
        PeerProcess process = identity.process().orElseThrow();
        assertEquals(before, PeerIdentityTest.openDescriptors(), "no pidfd");
        assertFalse(process.isPinned());
        assertEquals(PeerClients.pythonCommand(socket), process.commandLine());
        assertEquals(ProcessHandle.current().pid(), process.parent().orElseThrow().pid());
        connection.shutdownOutput();
        client.assertExit(0);
        assertFalse(process.isAlive());
        assertThrows(PeerProcessGoneException.class, process::commandLine);
      }
    }
  }

  /** The fallback for kernels without SO_PEERPIDFD, made directly: pid and start time only. */
  @Test
  void startTimeOnlyHandleIsNotPinnedAndStillNoticesExit() throws Exception {
    try (ChildProcess sleeper = ChildProcess.start("sleep", "600")) {
      LinuxPeerProcess process = LinuxPeerProcess.open(sleeper.pid(), -1);
      try {
        assertFalse(process.isPinned());
        assertTrue(process.isAlive());
        assertEquals(Path.of("/usr/bin/sleep").toRealPath(), process.executable());
        assertEquals(List.of("sleep", "600"), process.commandLine());
        assertEquals(ProcessHandle.current().pid(), process.parent().orElseThrow().pid());
        assertFalse(process.parent().orElseThrow().isPinned());
        sleeper.close(); // kills it and waits until it is gone
        assertFalse(process.isAlive());
        assertThrows(PeerProcessGoneException.class, process::commandLine);
      } finally {
        process.close();
      }
    }
  }

  @Test
  void kernelsFromSixFiveOnPinProcesses() {
    String[] version = System.getProperty("os.version").split("[.-]");
    int major = Integer.parseInt(version[0]);
    int minor = Integer.parseInt(version[1]);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        major > 6 || major == 6 && minor >= 5,
        "kernel " + System.getProperty("os.version") + " predates SO_PEERPIDFD (6.5)");
    assertTrue(PeerIdentity.canPinProcesses());
  }

  @Test
  void pidfdOpenedAfterExitIsRefused() throws Exception {
    long pid;
    try (ChildProcess quick = ChildProcess.start("true")) {
      pid = quick.pid();
      quick.assertExit(0);
    }
    int fd = Pidfd.open(pid);
    if (fd >= 0) {
      // the pid was reused already: then it is someone else, and the handle must be for them
      dev.peercred.internal.linux.LibC.close(fd);
    } else {
      assertEquals(-dev.peercred.internal.linux.Errno.ESRCH, fd);
    }
  }

  @Test
  void pinnedHandleForAChildNoticesExit() throws Exception {
    try (ChildProcess sleeper = ChildProcess.start("sleep", "600")) {
      LinuxPeerProcess process = LinuxPeerProcess.open(sleeper.pid(), Pidfd.open(sleeper.pid()));
      try {
        assertTrue(process.isPinned());
        assertEquals(List.of("sleep", "600"), process.commandLine());
        sleeper.close(); // kills it and waits until it is gone
        assertFalse(process.isAlive());
        assertThrows(PeerProcessGoneException.class, process::executable);
      } finally {
        process.close();
      }
    }
  }
}
