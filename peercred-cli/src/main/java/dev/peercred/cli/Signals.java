package dev.peercred.cli;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Runs an action when the process receives a signal such as {@code SIGHUP}.
 *
 * <p>The JDK has no standard API for this. This uses {@code sun.misc.Signal} from the {@code
 * jdk.unsupported} module, which the JDK exports on purpose for such uses (it is not a JDK internal
 * and needs no {@code --add-opens}). It is reached reflectively so that a runtime image built
 * without {@code jdk.unsupported} still runs: {@link #handle} then returns false and the caller
 * says that the signal is not handled.
 */
final class Signals {
  private Signals() {}

  /**
   * Calls {@code action} on a JDK signal-dispatch thread each time signal {@code name} (without the
   * {@code SIG} prefix, for example {@code "HUP"}) arrives. Returns false if signals cannot be
   * handled in this runtime, or if this process started with the signal ignored (under {@code
   * nohup}, or in a background job), which the JVM then leaves ignored.
   */
  static boolean handle(String name, Runnable action) {
    try {
      Class<?> signalClass = Class.forName("sun.misc.Signal");
      Class<?> handlerClass = Class.forName("sun.misc.SignalHandler");
      Constructor<?> constructor = signalClass.getConstructor(String.class);
      Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
      Object signal = constructor.newInstance(name);
      Object handler =
          Proxy.newProxyInstance(
              Signals.class.getClassLoader(),
              new Class<?>[] {handlerClass},
              (proxy, method, args) -> {
                switch (method.getName()) {
                  case "handle" -> {
                    action.run();
                    return null;
                  }
                  case "hashCode" -> {
                    return System.identityHashCode(proxy);
                  }
                  case "equals" -> {
                    return proxy == args[0];
                  }
                  case "toString" -> {
                    return "SIG" + name + " handler";
                  }
                  default -> throw new UnsupportedOperationException(method.getName());
                }
              });
      Object previous = handle.invoke(null, signal, handler);
      // A shutdown signal (HUP, INT, TERM) the process inherited ignored stays ignored: the JVM
      // keeps it so and reports the old disposition instead of installing the handler.
      return previous != handlerClass.getField("SIG_IGN").get(null);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return false;
    }
  }
}
