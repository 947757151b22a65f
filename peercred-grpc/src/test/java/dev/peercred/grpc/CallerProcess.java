package dev.peercred.grpc;

import dev.peercred.PeerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A client run as a separate process (often as another user): {@code CallerProcess SOCKET CHANNELS
 * CALLS_PER_CHANNEL}. Prints {@code SELF pid uid gid}, then one line per call: {@code OK <server's
 * view of the caller>} or {@code STATUS <code> <description>}.
 */
public final class CallerProcess {
  private CallerProcess() {}

  public static void main(String[] args) throws Exception {
    Path socket = Path.of(args[0]);
    int channels = Integer.parseInt(args[1]);
    int calls = Integer.parseInt(args[2]);
    PeerCredentials self = PeerCredentials.ofCurrentProcess();
    System.out.println("SELF " + self.pid().getAsLong() + " " + self.uid() + " " + self.gid());
    List<ManagedChannel> opened = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, channels * 4));
    List<Future<String>> results = new ArrayList<>();
    for (int c = 0; c < channels; c++) {
      ManagedChannel channel = UnixChannelBuilder.forPath(socket).build();
      opened.add(channel);
      for (int i = 0; i < calls; i++) {
        results.add(pool.submit(() -> call(channel)));
      }
    }
    for (Future<String> result : results) {
      System.out.println(result.get());
    }
    pool.shutdown();
    for (ManagedChannel channel : opened) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.out.flush();
  }

  private static String call(ManagedChannel channel) {
    try {
      return "OK "
          + ClientCalls.blockingUnaryCall(
              channel,
              TestService.WHO_AM_I,
              io.grpc.CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
              "hi");
    } catch (StatusRuntimeException e) {
      return "STATUS " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
    }
  }
}
