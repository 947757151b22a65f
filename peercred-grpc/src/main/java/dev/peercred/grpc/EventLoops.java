package dev.peercred.grpc;

import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The epoll event loops shared by every server and channel of this module, made on first use with
 * daemon threads and kept for the life of the JVM (as grpc-netty's own default loops are).
 */
final class EventLoops {
  private EventLoops() {}

  /** Throws a clear exception when Netty's epoll transport cannot load here. */
  static void ensureEpoll() {
    if (!Epoll.isAvailable()) {
      throw new UnsupportedOperationException(
          "peercred-grpc needs Netty's epoll transport (Linux x86_64 or aarch64), which did not"
              + " load: "
              + Epoll.unavailabilityCause(),
          Epoll.unavailabilityCause());
    }
  }

  static EventLoopGroup boss() {
    return Boss.GROUP;
  }

  static EventLoopGroup worker() {
    return Worker.GROUP;
  }

  private static final class Boss {
    static final EventLoopGroup GROUP =
        new MultiThreadIoEventLoopGroup(
            1, new DefaultThreadFactory("peercred-grpc-boss", true), EpollIoHandler.newFactory());
  }

  private static final class Worker {
    static final EventLoopGroup GROUP =
        new MultiThreadIoEventLoopGroup(
            0, new DefaultThreadFactory("peercred-grpc-worker", true), EpollIoHandler.newFactory());
  }
}
