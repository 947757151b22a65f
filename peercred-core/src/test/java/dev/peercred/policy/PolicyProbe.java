package dev.peercred.policy;

import dev.peercred.UnixConnection;
import dev.peercred.UnixListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A server for {@link PolicyNamespaceTest}, run in another namespace: accepts one connection,
 * prints {@code rule=OUTCOME} for a set of policies, then {@code DONE}.
 */
public final class PolicyProbe {
  private PolicyProbe() {}

  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args[0]);
    try (UnixListener listener = UnixListener.bind(socket)) {
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rwxrwxrwx"));
      System.out.println("READY");
      System.out.flush();
      try (UnixConnection connection = listener.accept()) {
        Map<String, Policy> policies = new LinkedHashMap<>();
        policies.put("uid-overflow", Policy.uid(65534));
        policies.put("not-uid-overflow", Policy.not(Policy.uid(65534)));
        policies.put("not-uid-1234", Policy.not(Policy.uid(1234)));
        policies.put("gid-overflow", Policy.gid(65534));
        policies.put("root", Policy.root());
        policies.put("exe", Policy.executable(Path.of("/usr/bin/python3")));
        policies.put("not-exe", Policy.not(Policy.executable(Path.of("/usr/bin/python3"))));
        policies.put("descendant", Policy.descendantOf(1));
        policies.put("deny-list", PolicyRules.parse("deny uid 1234\ndefault allow\n"));
        policies.put("deny-exe-list", PolicyRules.parse("deny exe /usr/bin/nc\ndefault allow\n"));
        for (var e : policies.entrySet()) {
          System.out.println(
              e.getKey() + "=" + e.getValue().decide(connection.peerIdentity()).outcome());
        }
      }
    }
    System.out.println("DONE");
  }
}
