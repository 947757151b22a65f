package dev.peercred.internal.linux;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.NoSuchElementException;

/**
 * Whether this JVM lets peercred call the C library, and the linking of every function it calls.
 *
 * <p>No class of this package links a function or starts a thread while it is being initialized: an
 * exception there would be an {@link ExceptionInInitializerError} at the first call and a {@link
 * NoClassDefFoundError} at every later one, for the life of the JVM, whatever changed in between.
 * Instead each class keeps its method handles in a nested holder class, which the JVM initializes
 * at the first call that uses it, and every wrapper calls {@link #check()} before it touches one.
 * {@code check()} throws a {@link NativeAccessException} naming the missing flag while the JVM
 * denies native access, and asks again at the next call. Once it has passed, it costs one volatile
 * read. {@link #link} never throws, so a holder's initialization cannot fail.
 */
final class NativeAccess {
  private NativeAccess() {}

  /** Captures errno in the downcall itself (a virtual thread may change carriers after it). */
  static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

  /** For calls that never block: no thread-state transition, and Java arrays passed directly. */
  static final Linker.Option HEAP = Linker.Option.critical(true);

  /** True once a downcall handle could be made; set once, never cleared. */
  private static volatile boolean granted;

  /**
   * Throws unless this JVM runs where peercred can call the C library and lets it do so.
   *
   * @throws UnsupportedOperationException on a platform other than Linux x86_64 or aarch64
   * @throws NativeAccessException while native access is denied to peercred's module
   */
  static void check() {
    if (!granted) {
      probe();
    }
  }

  private static synchronized void probe() {
    if (granted) {
      return;
    }
    Platform.ensureSupported();
    try {
      // A restricted method: it fails with IllegalCallerException where native access is denied
      // (--illegal-native-access=deny), and where it is only warned about it warns once, as the
      // first real link would.
      Linker.nativeLinker().downcallHandle(FunctionDescriptor.ofVoid());
    } catch (IllegalCallerException e) {
      throw new NativeAccessException(e);
    }
    granted = true;
  }

  /**
   * Links the C library function {@code name}. Never throws: if the function cannot be linked (a C
   * library without it), the handle returned throws, at every call, an exception that {@link
   * #failure(Throwable)} turns into an {@link UnsupportedOperationException} naming the function.
   * Called from holder classes, which wrappers reach only after {@link #check()}.
   *
   * @param options {@link #ERRNO} to capture errno, {@link #HEAP} for calls that never block
   */
  static MethodHandle link(String name, FunctionDescriptor descriptor, Linker.Option... options) {
    try {
      Linker linker = Linker.nativeLinker();
      MemorySegment symbol =
          linker
              .defaultLookup()
              .find(name)
              .orElseThrow(() -> new NoSuchElementException("the C library has no '" + name + "'"));
      return linker.downcallHandle(symbol, descriptor, options);
    } catch (RuntimeException e) {
      MethodType type = descriptor.toMethodType();
      if (Arrays.asList(options).contains(ERRNO)) {
        type = type.insertParameterTypes(0, MemorySegment.class);
      }
      Unlinkable failure = new Unlinkable("cannot call C function " + name + ": " + e, e);
      MethodHandle thrower =
          MethodHandles.throwException(type.returnType(), Unlinkable.class).bindTo(failure);
      return MethodHandles.dropArguments(thrower, 0, type.parameterList());
    }
  }

  /**
   * What a wrapper throws when its downcall threw {@code t}: an {@link
   * UnsupportedOperationException} for a function that could not be linked, runtime exceptions and
   * errors as they are.
   */
  static RuntimeException failure(Throwable t) {
    if (t instanceof Unlinkable unlinkable) {
      return new UnsupportedOperationException(unlinkable.getMessage(), unlinkable.getCause());
    }
    if (t instanceof RuntimeException e) {
      return e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException("a downcall threw a checked exception", t);
  }

  /**
   * Thrown by the handle of a function that could not be linked; one shared, stackless instance.
   */
  private static final class Unlinkable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unlinkable(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }
}
