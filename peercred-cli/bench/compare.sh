#!/usr/bin/env bash
# Compares peercred proxy with HAProxy on this machine, in the same run, alternating rounds:
#
#   byte mode: redis-benchmark GET (and GET -P 16) over Unix sockets, to one redis-server, direct
#              (the ceiling), through HAProxy "mode tcp", and through "peercred proxy";
#   HTTP mode: keep-alive GET /_ping to an nginx on a Unix socket, direct, through HAProxy
#              "mode http" with a path ACL (GET /_ping allowed, the rest denied), and through
#              "peercred proxy --http" with the rule "allow uid U http GET /_ping" (one audit line
#              per request, to a file).
#
#   peercred-cli/bench/compare.sh [ROUNDS] [REQUESTS] [SECONDS] [CONNECTIONS]
#
# REQUESTS per redis-benchmark run (default 300000, ten times that with -P 16), SECONDS per HTTP run (default 4), CONNECTIONS
# for both clients (default 50). Each line printed is one run: its rate (requests/s) and the CPU the
# serving process used per request (utime+stime from /proc/PID/stat; for "direct" the backend's).
# The summary gives medians and the ratio peercred/HAProxy. Extra JVM options for the proxy can be
# given in PEERCRED_PROXY_OPTS (e.g. -Ddev.peercred.relayThreads=2).
#
# Needs: JDK 25, the built CLI (./peercred --help builds it), gcc, and the Debian packages haproxy,
# redis-server, redis-tools, nginx-light (installed with apt-get when missing and running as root).
set -euo pipefail
rounds="${1:-5}" requests="${2:-300000}" seconds="${3:-4}" conns="${4:-50}"
here="$(cd "$(dirname "$0")" && pwd)"
jar="${PEERCRED_JAR:-$here/../target/peercred.jar}"
java="${PEERCRED_JAVA:-$(ls -d /usr/lib/jvm/*25*/bin/java | head -n 1)}"
[ -f "$jar" ] || { echo "build first: ./peercred --help" >&2; exit 69; }

missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-benchmark >/dev/null || missing+=(redis-tools)
command -v nginx >/dev/null || missing+=(nginx-light)
command -v gcc >/dev/null || missing+=(gcc)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
  else
    echo "missing: apt-get install ${missing[*]}" >&2
    exit 69
  fi
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
wait_for() { for _ in $(seq 400); do [ -S "$1" ] && return 0; sleep 0.05; done; echo "no socket $1" >&2; exit 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"

gcc -O2 -o "$work/unixhttp" "$here/unixhttp.c" -lpthread

# ---- backends
redis-server --port 0 --unixsocket "$work/redis.sock" --unixsocketperm 700 --save "" \
  --appendonly no --daemonize no --loglevel warning >"$work/redis.log" 2>&1 &
pids+=($!); redis_pid=$!
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  keepalive_requests 1000000;
  server {
    listen unix:$work/nginx.sock;
    location = /_ping { return 200 "OK"; }
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work/nginx" & pids+=($!); nginx_pid=$!

# ---- HAProxy, both modes in one process (its default: one thread per CPU)
cat >"$work/haproxy.cfg" <<EOF
global
  maxconn 4096
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend redis
  mode tcp
  bind $work/haproxy-redis.sock
  default_backend redis
backend redis
  mode tcp
  server redis $work/redis.sock
frontend web
  mode http
  bind $work/haproxy-http.sock
  acl ping path /_ping
  acl get method GET
  http-request deny unless get ping
  default_backend nginx
backend nginx
  mode http
  server nginx $work/nginx.sock
EOF
wait_for "$work/redis.sock"
wait_for "$work/nginx.sock"
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 & pids+=($!); haproxy_pid=$!

# ---- peercred proxy, one per mode
echo "allow any" >"$work/policy"
echo "allow uid $(id -u) http GET /_ping" >"$work/http-policy"
# shellcheck disable=SC2086
"$java" --enable-native-access=ALL-UNNAMED ${PEERCRED_PROXY_OPTS:-} -jar "$jar" proxy \
  --listen "$work/peercred-redis.sock" --to "$work/redis.sock" --policy "$work/policy" \
  --audit "$work/audit-redis.log" 2>"$work/peercred-redis.err" & pids+=($!); pc_redis_pid=$!
# shellcheck disable=SC2086
"$java" --enable-native-access=ALL-UNNAMED ${PEERCRED_PROXY_OPTS:-} -jar "$jar" proxy --http \
  --listen "$work/peercred-http.sock" --to "$work/nginx.sock" --policy "$work/http-policy" \
  --audit "$work/audit-http.log" 2>"$work/peercred-http.err" & pids+=($!); pc_http_pid=$!
wait_for "$work/haproxy-redis.sock"
wait_for "$work/haproxy-http.sock"
wait_for "$work/peercred-redis.sock"
wait_for "$work/peercred-http.sock"

# The ACL really refuses: a POST and another path get 403 from both.
for s in haproxy-http peercred-http; do
  for probe in "POST /_ping" "GET /other"; do
    answer="$(printf '%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$probe" \
      | socat -t 2 - "UNIX-CONNECT:$work/$s.sock" 2>/dev/null | head -n 1 || true)"
    case "$answer" in *403*) ;; *) echo "$s let '$probe' through: $answer" >&2; exit 1 ;; esac
  done
done

redis_run() { # SOCKET PIPELINE -> rate
  redis-benchmark -s "$1" -t get -n "$(redis_requests "$2")" -c "$conns" -P "$2" --csv 2>/dev/null \
    | awk -F'"' '/^"GET"/ {print $4}'
}
redis_requests() { echo $(($1 == 1 ? requests : requests * 10)); } # pipelined runs are faster
http_run() { # SOCKET -> rate (fails on any non-200)
  "$work/unixhttp" "$1" /_ping "$conns" "$seconds" | sed -n 's/.*requests=\([0-9]*\) errors=0 seconds=\([0-9.]*\).*/\1 \2/p'
}

# measure TEST TARGET SOCKET PID: runs once, prints "TEST TARGET rate cpu_us_per_request"
measure() {
  local test="$1" target="$2" sock="$3" pid="$4" before after rate count elapsed
  before="$(cpu_ticks "$pid")"
  case "$test" in
    get) rate="$(redis_run "$sock" 1)"; count="$requests" ;;
    get-P16) rate="$(redis_run "$sock" 16)"; count="$(redis_requests 16)" ;;
    http)
      read -r count elapsed < <(http_run "$sock")
      [ -n "${count:-}" ] || { echo "http run through $target failed" >&2; exit 1; }
      rate="$(awk -v n="$count" -v s="$elapsed" 'BEGIN {printf "%.0f", n / s}')"
      [ "$target" != peercred ] || echo "$count" >>"$work/peercred-http-requests" ;;
  esac
  after="$(cpu_ticks "$pid")"
  awk -v t="$test" -v g="$target" -v r="$rate" -v c="$((after - before))" -v n="$count" -v hz="$hz" \
    'BEGIN {printf "%s %s %.0f %.1f\n", t, g, r, c * 1e6 / hz / n}'
}

sockets_for() { # TEST TARGET -> "SOCKET PID"
  case "$1:$2" in
    get*:direct) echo "$work/redis.sock $redis_pid" ;;
    get*:haproxy) echo "$work/haproxy-redis.sock $haproxy_pid" ;;
    get*:peercred) echo "$work/peercred-redis.sock $pc_redis_pid" ;;
    http:direct) echo "$work/nginx.sock $nginx_pid" ;;
    http:haproxy) echo "$work/haproxy-http.sock $haproxy_pid" ;;
    http:peercred) echo "$work/peercred-http.sock $pc_http_pid" ;;
  esac
}

# Warm-up (the JVM compiles its hot paths), not counted.
for test in get http; do
  read -r sock pid < <(sockets_for "$test" peercred)
  measure "$test" peercred "$sock" "$pid" >/dev/null
done

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $rounds rounds," \
  "$requests redis requests, ${seconds}s HTTP runs, $conns connections;" \
  "HAProxy $(haproxy -v | head -n 1 | cut -d' ' -f3), peercred ${PEERCRED_PROXY_OPTS:-defaults}"
results="$work/results"
for round in $(seq "$rounds"); do
  for test in get get-P16 http; do
    # alternate the order of the proxies from round to round
    if [ $((round % 2)) = 1 ]; then order="direct haproxy peercred"; else order="peercred haproxy direct"; fi
    for target in $order; do
      read -r sock pid < <(sockets_for "$test" "$target")
      line="$(measure "$test" "$target" "$sock" "$pid")"
      echo "round $round $line"
      echo "$line" >>"$results"
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Every client has gone: a proxy still holding a client connection now has a relay that was never
# served, which would also have slowed the runs above.
held_by() { ss -xp | grep "pid=$1," | grep -c -- "$work/peercred-" || true; }
for pid in "$pc_redis_pid" "$pc_http_pid"; do
  for _ in $(seq 50); do [ "$(held_by "$pid")" = 0 ] && break; sleep 0.1; done
  held="$(held_by "$pid")"
  [ "$held" = 0 ] || { echo "peercred proxy $pid still holds $held client connections" >&2; exit 1; }
done
kill -TERM "$pc_http_pid" "$pc_redis_pid"
wait "$pc_http_pid" "$pc_redis_pid" 2>/dev/null || true
echo "# audit lines after the proxies stopped: byte mode $(wc -l <"$work/audit-redis.log")" \
  "(one per connection), HTTP mode $(grep -c '"status":200' "$work/audit-http.log")" \
  "requests with status 200 of $(awk '{s += $1} END {print s}' "$work/peercred-http-requests")" \
  "answered through it"
echo "# medians: test target req/s cpu_us/req"
for test in get get-P16 http; do
  for target in direct haproxy peercred; do
    awk -v t="$test" -v g="$target" '$1 == t && $2 == g {print $3, $4}' "$results" | sort -n \
      | awk -v t="$test" -v g="$target" '{r[NR] = $1; c[NR] = $2}
        END {m = int((NR + 1) / 2); printf "%-8s %-9s %8.0f %6.1f\n", t, g, r[m], c[m]}'
  done
done | tee "$work/medians"
for test in get get-P16 http; do
  awk -v t="$test" '$1 == t && $2 == "haproxy" {h = $3} $1 == t && $2 == "peercred" {p = $3}
    END {printf "# %s: peercred/HAProxy %.2f\n", t, p / h}' "$work/medians"
done
