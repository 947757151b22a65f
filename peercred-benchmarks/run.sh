#!/usr/bin/env bash
# Runs the peercred benchmarks: every reference server under the same load, then JMH, and writes
# docs/benchmarks.md. Extra arguments go to the runner, e.g.
#   ./peercred-benchmarks/run.sh --seconds 5 --rounds 3 --servers c,go,jdk,netty,junixsocket,peercred
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# A JDK 25 or newer: PEERCRED_JAVA, JAVA_HOME, or one under /usr/lib/jvm.
java=""
for candidate in ${PEERCRED_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/*25*/bin/java /usr/lib/jvm/*/bin/java; do
  [ -x "$candidate" ] || continue
  major="$("$candidate" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)"
  if [ -n "$major" ] && [ "$major" -ge 25 ]; then java="$candidate"; break; fi
done
[ -n "$java" ] || { echo "run.sh: no JDK 25 or newer found (set JAVA_HOME)" >&2; exit 1; }
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  mvn -B -q -pl peercred-benchmarks -am package -DskipTests
fi
m=peercred-benchmarks
cp="$m/target/classes:peercred-core/target/classes:peercred-examples/target/classes:$m/target/lib/*"
# Servers hold up to 19,000 connections, each holder process 9,500: raise the soft limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$java" --enable-native-access=ALL-UNNAMED -Dbench.csource="$m/src/main/c/echo.c" -Dbench.gosource="$m/src/main/go/echo.go" -cp "$cp" \
  dev.peercred.benchmarks.Runner --work "$m/target/bench" --out docs/benchmarks.md \
  --command "./peercred-benchmarks/run.sh $*" "$@"
