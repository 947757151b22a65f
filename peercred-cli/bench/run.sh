#!/usr/bin/env bash
# Benchmarks peercred proxy against socat on this machine: throughput of one large transfer and
# rate of short connections, direct to the backend, through socat, and through peercred proxy.
# Rounds alternate between the contenders so that background load hits them alike.
#
#   peercred-cli/bench/run.sh [ROUNDS] [MEGABYTES] [SECONDS] [THREADS]
#
# Needs: a JDK 25 (PEERCRED_JAVA or /usr/lib/jvm/*25*), socat, and the built CLI
# (peercred-cli/target/peercred.jar; ./peercred --help builds it).
set -euo pipefail
rounds="${1:-3}" megabytes="${2:-1000}" seconds="${3:-5}" threads="${4:-2}"
here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/../target/peercred.jar"
java="${PEERCRED_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java | head -n 1)}"
command -v socat >/dev/null || { echo "socat is needed: apt-get install socat" >&2; exit 69; }
[ -f "$jar" ] || { echo "build first: ./peercred --help" >&2; exit 69; }

work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

bench() { "$java" "$here/ProxyBench.java" "$@"; }
wait_for() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "no socket $1" >&2; exit 1; }

"$java" "$here/ProxyBench.java" serve "$work/backend.sock" 2>/dev/null & pids+=($!)
wait_for "$work/backend.sock"
socat UNIX-LISTEN:"$work/socat.sock",fork UNIX-CONNECT:"$work/backend.sock" & pids+=($!)
echo "allow any" > "$work/policy"
"$java" --enable-native-access=ALL-UNNAMED -jar "$jar" proxy --listen "$work/proxy.sock" \
  --to "$work/backend.sock" --policy "$work/policy" --audit "$work/audit.log" 2>"$work/proxy.err" & pids+=($!)
wait_for "$work/socat.sock"
wait_for "$work/proxy.sock"

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds"
for round in $(seq "$rounds"); do
  for target in direct socat proxy; do
    case "$target" in
      direct) sock="$work/backend.sock" ;;
      socat) sock="$work/socat.sock" ;;
      proxy) sock="$work/proxy.sock" ;;
    esac
    echo "round $round $target $(bench throughput "$sock" "$megabytes")"
    echo "round $round $target $(bench connections "$sock" "$seconds" "$threads")"
  done
done
echo "# audit lines written by the proxy: $(wc -l < "$work/audit.log")"
