package dev.peercred.grpc;

import dev.peercred.PeerIdentity;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/** A tiny service with string messages whose handlers answer with their caller's identity. */
final class TestService {
  static final String NAME = "peercred.test.Peer";

  static final MethodDescriptor<String, String> WHO_AM_I =
      method(MethodDescriptor.MethodType.UNARY, "WhoAmI");
  static final MethodDescriptor<String, String> CHAT =
      method(MethodDescriptor.MethodType.BIDI_STREAMING, "Chat");
  static final MethodDescriptor<String, String> SECRET =
      method(MethodDescriptor.MethodType.UNARY, "Secret");

  /** Counts handler invocations: a refused call must leave it unchanged. */
  final AtomicInteger handled = new AtomicInteger();

  static String describe(PeerIdentity peer) {
    return peer.pid().orElse(0) + " " + peer.uid() + " " + peer.gid();
  }

  ServerServiceDefinition definition() {
    return ServerServiceDefinition.builder(NAME)
        .addMethod(
            WHO_AM_I,
            ServerCalls.asyncUnaryCall(
                (String request, StreamObserver<String> reply) -> {
                  handled.incrementAndGet();
                  reply.onNext(describe(PeerIdentities.current()));
                  reply.onCompleted();
                }))
        .addMethod(
            SECRET,
            ServerCalls.asyncUnaryCall(
                (String request, StreamObserver<String> reply) -> {
                  handled.incrementAndGet();
                  reply.onNext("secret");
                  reply.onCompleted();
                }))
        .addMethod(
            CHAT,
            ServerCalls.asyncBidiStreamingCall(
                (StreamObserver<String> reply) -> {
                  handled.incrementAndGet();
                  return new StreamObserver<String>() {
                    @Override
                    public void onNext(String message) {
                      reply.onNext(message + ": " + describe(PeerIdentities.current()));
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                      reply.onCompleted();
                    }
                  };
                }))
        .build();
  }

  private static MethodDescriptor<String, String> method(
      MethodDescriptor.MethodType type, String name) {
    return MethodDescriptor.<String, String>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(NAME, name))
        .setRequestMarshaller(Utf8.INSTANCE)
        .setResponseMarshaller(Utf8.INSTANCE)
        .build();
  }

  private enum Utf8 implements MethodDescriptor.Marshaller<String> {
    INSTANCE;

    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
