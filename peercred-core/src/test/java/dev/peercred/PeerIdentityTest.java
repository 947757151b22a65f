package dev.peercred;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.peercred.internal.linux.LibC;
import dev.peercred.testing.Await;
import dev.peercred.testing.Gc;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The identity of a peer in this same process, checked against what /proc says about us. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeerIdentityTest {
  @TempDir Path dir;

  /** A connected pair: [0] the server side, [1] the client side. */
  private UnixConnection[] pair() throws IOException {
    Path path = dir.resolve("s");
    try (UnixListener listener = UnixListener.bind(path)) {
      UnixConnection client = UnixConnection.connect(path);
      return new UnixConnection[] {listener.accept(), client};
    }
  }

  private static List<Long> ourGroups() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Groups:")) {
        String list = line.substring(7).trim();
        return list.isEmpty()
            ? List.of()
            : Arrays.stream(list.split("\\s+")).map(Long::valueOf).toList();
      }
    }
    throw new AssertionError("no Groups: in /proc/self/status");
  }

  private static List<String> ourCommandLine() throws IOException {
    String raw = Files.readString(Path.of("/proc/self/cmdline"), StandardCharsets.UTF_8);
    return Arrays.asList(raw.substring(0, raw.length() - 1).split("\0", -1));
  }

  @Test
  void groupsAreThoseOfThePeerProcess() throws IOException {
    UnixConnection[] c = pair();
    try {
      assertEquals(ourGroups(), c[0].peerIdentity().groups());
      assertEquals(ourGroups(), c[1].peerIdentity().groups());
    } finally {
      c[0].close();
      c[1].close();
    }
  }

  @Test
  void securityLabelIsEmptyWithoutASecurityModule() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        Files.exists(Path.of("/sys/kernel/security/lsm"))
            && !Files.readString(Path.of("/sys/kernel/security/lsm"))
                .matches("^(capability|lockdown|yama|landlock|bpf|,)*\\s*$"),
        "a label-providing security module is active here");
    UnixConnection[] c = pair();
    try {
      assertTrue(c[0].peerIdentity().securityLabel().isEmpty());
    } finally {
      c[0].close();
      c[1].close();
    }
  }

  @Test
  void processIsThisPinnedProcessWithItsExecutableAndCommandLine() throws IOException {
    UnixConnection[] c = pair();
    try {
      PeerProcess process = c[0].peerIdentity().process().orElseThrow();
      ProcessHandle self = ProcessHandle.current();
      assertEquals(self.pid(), process.pid());
      assertEquals(
          PeerIdentity.canPinProcesses(), process.isPinned(), "pinned where SO_PEERPIDFD is");
      assertTrue(process.isAlive());
      assertEquals(Path.of(self.info().command().orElseThrow()), process.executable());
      assertEquals(ourCommandLine(), process.commandLine());
      Instant started = self.info().startInstant().orElseThrow();
      assertTrue(
          Duration.between(started, process.startTime()).abs().compareTo(Duration.ofSeconds(2)) < 0,
          process.startTime() + " vs " + started);
      String cgroup = Files.readString(Path.of("/proc/self/cgroup"));
      for (String line : cgroup.split("\n")) {
        if (line.startsWith("0::")) {
          assertEquals(line.substring(3), process.cgroup().orElseThrow());
        }
      }
      PeerProcess parent = process.parent().orElseThrow();
      assertEquals(self.parent().orElseThrow().pid(), parent.pid());
      assertEquals(PeerIdentity.canPinProcesses(), parent.isPinned());
      assertTrue(parent.isAlive());
      assertEquals(
          Path.of(self.parent().orElseThrow().info().command().orElseThrow()), parent.executable());
      assertTrue(process.parent().orElseThrow() == parent, "the parent handle is kept");
    } finally {
      c[0].close();
      c[1].close();
    }
  }

  @Test
  void clientSeesTheServerProcessToo() throws IOException {
    UnixConnection[] c = pair();
    try {
      assertEquals(
          ProcessHandle.current().pid(), c[1].peerIdentity().process().orElseThrow().pid());
    } finally {
      c[0].close();
      c[1].close();
    }
  }

  @Test
  void namesResolveForRoot() throws IOException {
    UnixConnection[] c = pair();
    try {
      PeerIdentity identity = c[0].peerIdentity();
      org.junit.jupiter.api.Assumptions.assumeTrue(identity.uid() == 0, "runs as root in CI");
      assertEquals("root", identity.userName().orElseThrow());
      assertEquals("root", identity.groupName().orElseThrow());
      // On a virtual thread the lookup runs on a platform thread while the virtual thread parks.
      dev.peercred.internal.linux.Nss.clearCache();
      String[] seen = new String[2];
      Thread.ofVirtual()
          .start(
              () -> {
                seen[0] = identity.userName().orElse("none");
                seen[1] = identity.groupName().orElse("none");
              })
          .join();
      assertEquals("root", seen[0]);
      assertEquals("root", seen[1]);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      c[0].close();
      c[1].close();
    }
  }

  @Test
  void closingTheConnectionClosesTheProcessHandle() throws IOException {
    UnixConnection[] c = pair();
    PeerIdentity identity = c[0].peerIdentity();
    List<Long> groups = identity.groups();
    PeerProcess process = identity.process().orElseThrow();
    long before = openDescriptors();
    c[0].close();
    c[1].close();
    assertEquals(groups, identity.groups(), "values already read stay available");
    assertThrows(ClosedChannelException.class, identity::securityLabel);
    assertThrows(ClosedChannelException.class, process::executable);
    assertThrows(ClosedChannelException.class, process::parent);
    assertFalse(process.isAlive(), "a closed handle can no longer vouch for the process");
    assertEquals(before - 3, openDescriptors(), "two sockets and one pidfd closed");
  }

  @Test
  void readFromARawDescriptorReadsEverythingAtOnceAndOwnsOnlyThePidfd() throws IOException {
    int[] fds = new int[2];
    assertEquals(0, LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds));
    try {
      long before = openDescriptors();
      List<Long> groups;
      try (PeerIdentity identity = PeerIdentity.read(fds[0])) {
        assertEquals(before + 1, openDescriptors(), "one pidfd, taken at read time");
        groups = identity.groups();
        assertEquals(ourGroups(), groups);
        PeerProcess process = identity.process().orElseThrow();
        assertEquals(ProcessHandle.current().pid(), process.pid());
        assertEquals(ourCommandLine(), process.commandLine());
      }
      assertEquals(before, openDescriptors(), "the pidfd is closed, the borrowed socket is not");
    } finally {
      LibC.close(fds[0]);
      LibC.close(fds[1]);
    }
  }

  @Test
  void overflowIdsAreReadInFull() throws IOException {
    // Files.readString gets only the first byte of a sysctl file; this once made 65534 read as 6.
    assertEquals(
        Long.parseLong(Files.readAllLines(Path.of("/proc/sys/kernel/overflowuid")).get(0).trim()),
        dev.peercred.internal.linux.Credentials.OVERFLOW_UID);
    assertEquals(
        Long.parseLong(Files.readAllLines(Path.of("/proc/sys/kernel/overflowgid")).get(0).trim()),
        dev.peercred.internal.linux.Credentials.OVERFLOW_GID);
  }

  @Test
  void anIdentityReadFromADescriptorAndDroppedUnclosedGivesItsPidfdBackWhenCollected()
      throws Exception {
    int[] fds = new int[2];
    assertEquals(0, LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds));
    try {
      long before = openDescriptors();
      for (int i = 0; i < 20; i++) {
        PeerIdentity.read(fds[0]).process().orElseThrow();
      }
      assertTrue(openDescriptors() >= before + 1, "pidfds are held until closed or collected");
      Await.until(
          "the dropped identities' pidfds to be given back",
          () -> {
            Gc.collect();
            return openDescriptors() == before;
          });

      // One kept, one dropped: once the dropped one's pidfd is back, a collection has run and its
      // cleanup with it, and it must have left the kept one alone.
      PeerProcess kept = PeerIdentity.read(fds[0]).process().orElseThrow();
      PeerIdentity.read(fds[0]).process().orElseThrow();
      Await.until(
          "the dropped identity's pidfd to be given back",
          () -> {
            Gc.collect();
            return openDescriptors() <= before + 1;
          });
      assertEquals(ourCommandLine(), kept.commandLine(), "a handle still in use stays open");
      assertEquals(
          ProcessHandle.current().parent().orElseThrow().pid(),
          kept.parent().orElseThrow().pid(),
          "the parent handle too");
    } finally {
      LibC.close(fds[0]);
      LibC.close(fds[1]);
    }
  }

  @Test
  void closingWhileOtherThreadsReadTheProcessFailsThemCleanlyAndLeaksNothing() throws Exception {
    long before = openDescriptors();
    for (int round = 0; round < 50; round++) {
      UnixConnection[] c = pair();
      PeerProcess process = c[0].peerIdentity().process().orElseThrow();
      process.parent();
      java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
      List<Thread> readers = new ArrayList<>();
      List<Throwable> unexpected = java.util.Collections.synchronizedList(new ArrayList<>());
      for (int t = 0; t < 4; t++) {
        readers.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        go.await();
                        for (int i = 0; i < 20; i++) {
                          process.executable();
                          process.commandLine();
                          process.parent().orElseThrow().executable();
                        }
                      } catch (ClosedChannelException e) {
                        // closed under us: expected
                      } catch (Throwable e) {
                        unexpected.add(e);
                      }
                    }));
      }
      go.countDown();
      c[0].close();
      c[1].close();
      for (Thread reader : readers) {
        reader.join();
      }
      assertEquals(List.of(), unexpected);
    }
    assertEquals(before, openDescriptors());
  }

  @Test
  void readRejectsANegativeDescriptor() {
    assertThrows(IllegalArgumentException.class, () -> PeerIdentity.read(-1));
  }

  @Test
  void readOfSomethingThatIsNotASocketFails() {
    assertThrows(PeerCredentialsException.class, () -> PeerIdentity.read(0));
  }

  @Test
  void hasGroupCountsThePrimaryGidAndMappedGroups() throws IOException {
    UnixConnection[] c = pair();
    try {
      PeerIdentity identity = c[0].peerIdentity();
      assertTrue(identity.hasGroup(identity.gid()));
      assertFalse(identity.hasUnmappedGroups());
      assertThrows(IllegalArgumentException.class, () -> identity.hasGroup(-1));
      assertThrows(IllegalArgumentException.class, () -> identity.hasGroup(1L << 32));
    } finally {
      c[0].close();
      c[1].close();
    }
  }

  /**
   * The sockets and pidfds this JVM has open: what peercred opens. Other descriptors (pipes of
   * child processes, files) are left out, as the garbage collector may close them at any time.
   */
  static long openDescriptors() throws IOException {
    return fdTargets().stream()
        .filter(t -> t.contains("->socket:") || t.endsWith("->anon_inode:[pidfd]"))
        .count();
  }

  static List<String> fdTargets() throws IOException {
    List<String> out = new ArrayList<>();
    try (var list = Files.list(Path.of("/proc/self/fd"))) {
      for (Path p : list.toList()) {
        try {
          out.add(p.getFileName() + "->" + Files.readSymbolicLink(p));
        } catch (IOException e) {
          // closed while listing
        }
      }
    }
    return out;
  }
}
