#!/usr/bin/env bash
# Reproduces docs/PERFORMANCE-api.md: (a) wrk against cheap routes with and
# without a valid JWT, (b) 1,000 concurrent c=5 measurements to distinct
# 127.10.x.y addresses. Loopback only. Needs root (ICMP raw socket), wrk and
# taskset. The server is pinned to CPU 0, the load generators to CPU 1.
# Results go to bench/out/api/ (not committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out/api
mkdir -p "$out"
go build -o "$out/pingapi" ./cmd/pingapi
go build -o "$out/apiload" ./bench/api
data=$(mktemp -d)
port=${PORT:-18181}
base=http://127.0.0.1:$port
pid=

start_server() {
	env -i PATH="$PATH" LOG_LEVEL=warn MAX_CONCURRENT=2000 MAX_CONCURRENT_PER_SUBJECT=2000 \
		taskset -c 0 "$out/pingapi" serve --listen "127.0.0.1:$port" --data-dir "$data" --env-file /dev/null \
		2>"$out/server.log" &
	pid=$!
	for _ in $(seq 100); do
		curl -fs "$base/readyz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "server not ready" >&2
	cat "$out/server.log" >&2
	exit 1
}
# ticks prints the server's user+system CPU time in clock ticks (1/100 s).
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
stop_server() { kill -TERM "$pid"; wait "$pid" || true; }
trap 'kill -TERM $pid 2>/dev/null || true; rm -rf "$data"' EXIT

what=${1:-all} # wrk, load or all
start_server
tok=$("$out/pingapi" token --data-dir "$data")
[ "$what" = load ] || {
	echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(nproc) CPUs, $(uname -r)"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	bench() {
		echo "## $1"
		shift
		local t0 t1 res
		t0=$(ticks)
		res=$(taskset -c 1 wrk -t2 -c50 -d15s --latency "$@")
		t1=$(ticks)
		echo "$res"
		# CPU per request is robust to other load on the machine; req/s is not.
		echo "$res" | awk -v t=$((t1 - t0)) '/requests in/ { printf "server CPU: %.2f s for %d requests = %.1f us per request\n", t/100, $1, t*1e4/$1 }'
		echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	}
	bench "baseline: GET /healthz (no auth)" "$base/healthz"
	bench "no token: GET /pingapi/127.0.0.1?c=0 -> 401 before any crypto" "$base/pingapi/127.0.0.1?c=0"
	bench "bad signature: -> 401 after an RS256 verify" -H "Authorization: Bearer ${tok%?}A" "$base/pingapi/127.0.0.1?c=0"
	bench "valid token: GET /pingapi/127.0.0.1?c=0 -> 422 after auth" -H "Authorization: Bearer $tok" "$base/pingapi/127.0.0.1?c=0"
	bench "valid token: GET /id -> 200 (monitor route, read scope)" -H "Authorization: Bearer $tok" "$base/id"
} | tee "$out/wrk.txt"
stop_server
[ "$what" = wrk ] && exit 0

start_server
{
	echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	taskset -c 1 "$out/apiload" -url "$base" -token "$tok" -pid "$pid" -n "${N:-1000}" -c "${C:-5}"
	echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/load.txt"
stop_server
