// Benchmark tool for docs/cli.md "Start-up time": javac -d /tmp/ffm
// peercred-cli/bench/FfmFloor.java
import java.lang.foreign.*;
import java.lang.invoke.*;

/**
 * The floor of an FFM tool's start-up: link 4 downcalls, call two, print a line. It calls
 * java.lang.foreign itself, not peercred's internal package, on purpose: it measures what any FFM
 * tool pays, with no peercred code in the way. Benchmark tooling, not part of peercred.
 */
public class FfmFloor {
  public static void main(String[] a) throws Throwable {
    Linker l = Linker.nativeLinker();
    SymbolLookup s = l.defaultLookup();
    Linker.Option cs = Linker.Option.captureCallState("errno");
    FunctionDescriptor ii =
        FunctionDescriptor.of(
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    MethodHandle socket = l.downcallHandle(s.find("socket").get(), ii, cs);
    MethodHandle conn =
        l.downcallHandle(
            s.find("connect").get(),
            FunctionDescriptor.of(
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT),
            cs);
    MethodHandle gso =
        l.downcallHandle(
            s.find("getsockopt").get(),
            FunctionDescriptor.of(
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.ADDRESS),
            cs);
    MethodHandle close =
        l.downcallHandle(
            s.find("close").get(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment st = arena.allocate(Linker.Option.captureStateLayout());
      int fd = (int) socket.invokeExact(st, 1, 1, 0);
      int r = (int) close.invokeExact(fd);
      System.out.println("fd " + fd);
    }
  }
}
