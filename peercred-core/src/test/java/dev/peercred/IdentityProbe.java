package dev.peercred;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A server run as a child JVM (inside {@code unshare}) by {@link PeerIdentityNamespaceTest}: binds
 * the path given, prints {@code READY}, accepts one connection and prints what it learned about the
 * peer as {@code key=value} lines, then {@code DONE}.
 */
public final class IdentityProbe {
  private IdentityProbe() {}

  public static void main(String[] args) throws Exception {
    Path path = Path.of(args[0]);
    try (UnixListener listener = UnixListener.bind(path)) {
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxrwxrwx"));
      System.out.println("READY");
      System.out.flush();
      try (UnixConnection connection = listener.accept()) {
        PeerIdentity identity = connection.peerIdentity();
        print("pid", identity.pid().isPresent() ? identity.pid().getAsLong() : "none");
        print("uid", identity.uid());
        print("uidMapped", identity.isUidMapped());
        print("gid", identity.gid());
        print("gidMapped", identity.isGidMapped());
        print("groups", identity.groups());
        print("mappedGroups", identity.mappedGroups());
        print("hasUnmappedGroups", identity.hasUnmappedGroups());
        print("userName", identity.userName().orElse("none"));
        print("process", identity.process().map(p -> "pid " + p.pid()).orElse("none"));
        connection.shutdownOutput();
      }
    }
    System.out.println("DONE");
  }

  private static void print(String key, Object value) {
    System.out.println(key + "=" + value);
  }
}
