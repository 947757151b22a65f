package dev.peercred.cli;

import dev.peercred.PeerIdentity;
import dev.peercred.PeerProcess;
import java.util.Map;
import java.util.Optional;

/**
 * What can be learned of a peer, as flat JSON-ready fields: {@code pid, uid, user, gid, group,
 * groups, exe, label}. For display and the audit trail only, never for decisions: a value that
 * cannot be read (process gone, no such name, not supported by this kernel) is {@code null} here.
 */
final class IdentityFacts {
  private IdentityFacts() {}

  /** Adds the peer's fields to {@code out}; {@code full} also reads groups and label. */
  static Map<String, Object> describe(PeerIdentity peer, Map<String, Object> out, boolean full) {
    out.put("pid", peer.pid().isPresent() ? peer.pid().getAsLong() : null);
    out.put("uid", peer.uid());
    out.put("user", quietly(() -> peer.userName().orElse(null)));
    out.put("gid", peer.gid());
    out.put("group", quietly(() -> peer.groupName().orElse(null)));
    if (full) {
      out.put("groups", quietly(peer::groups));
    }
    out.put(
        "exe",
        quietly(
            () -> {
              Optional<PeerProcess> process = peer.process();
              return process.isPresent() ? process.get().executable().toString() : null;
            }));
    if (full) {
      out.put("label", quietly(() -> peer.securityLabel().orElse(null)));
    }
    return out;
  }

  interface Read<T> {
    T get() throws Exception;
  }

  static <T> T quietly(Read<T> read) {
    try {
      return read.get();
    } catch (Exception | LinkageError e) {
      return null;
    }
  }
}
