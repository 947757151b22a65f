#!/usr/bin/env bash
# Runs the peercred benchmarks: every reference server under the same load, then JMH, and writes
# docs/benchmarks.md. Extra arguments go to the runner, e.g.
#   ./peercred-benchmarks/run.sh --seconds 5 --rounds 3 --servers c,jdk,netty,junixsocket,peercred
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
if [[ "${BENCH_SKIP_BUILD:-}" != 1 ]]; then
  mvn -B -q -pl peercred-benchmarks -am package -DskipTests
fi
m=peercred-benchmarks
cp="$m/target/classes:peercred-core/target/classes:peercred-examples/target/classes:$m/target/lib/*"
# Servers and the holder of idle connections each need 10,000+ descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec "$java" --enable-native-access=ALL-UNNAMED -Dbench.csource="$m/src/main/c/echo.c" -cp "$cp" \
  dev.peercred.benchmarks.Runner --work "$m/target/bench" --out docs/benchmarks.md \
  --command "./peercred-benchmarks/run.sh $*" "$@"
