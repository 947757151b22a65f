package dev.peercred.internal.linux;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;

/** Linking never throws: a function the C library lacks fails at each call, clearly. */
class NativeAccessLinkTest {
  @Test
  void aMissingFunctionGivesAHandleThatThrowsUnsupportedOperationExceptionAtEveryCall() {
    MethodHandle missing =
        NativeAccess.link("peercred_no_such_function", LibC.ints(1), NativeAccess.ERRNO);
    for (int call = 0; call < 2; call++) {
      var e =
          assertThrows(
              UnsupportedOperationException.class,
              () -> {
                try {
                  int unused = (int) missing.invokeExact(MemorySegment.NULL, 1);
                } catch (Throwable t) {
                  throw NativeAccess.failure(t);
                }
              });
      assertTrue(e.getMessage().contains("peercred_no_such_function"), e.getMessage());
    }
  }

  @Test
  void failurePassesRuntimeExceptionsThrough() {
    var e = new IllegalArgumentException("x");
    assertSame(e, NativeAccess.failure(e));
  }
}
