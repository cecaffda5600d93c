#!/usr/bin/env bash
# Runs pingapi's engine benchmarks against fping and pro-bing on loopback
# targets (127.0.0.0/8, ::1 only) and writes a markdown report.
#
#   sudo bench/run.sh [OUT.md]          # default bench/results/peerbench-<UTC time>.md
#
# Environment: REPS (default 3), RTT_ROUNDS (default 5), SIZES (default
# "1000 10000"), PEERS (default "engine,fping,probing").
# Needs root (raw ICMP sockets for pro-bing; the engine also works with
# net.ipv4.ping_group_range), fping and iputils-ping. Takes about 6 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
RTT_ROUNDS=${RTT_ROUNDS:-5}
SIZES=${SIZES:-"1000 10000"}
PEERS=${PEERS:-engine,fping,probing}
mkdir -p bench/results
OUT=${1:-bench/results/peerbench-$(date -u +%Y%m%dT%H%M%SZ).md}
BIN=$(mktemp -d)/peerbench
trap 'rm -rf "$(dirname "$BIN")"' EXIT
go build -o "$BIN" ./bench/cmd/peerbench

{
	echo "# peerbench $(date -u +'%Y-%m-%d %H:%M UTC')"
	echo
	echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -m | awk '/Mem:/{print $2}') MiB RAM"
	echo "- kernel: $(uname -r); $(go version | cut -d' ' -f3-); $(fping -v 2>&1 | head -1); $(ping -V 2>&1 | head -1)"
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	for n in $SIZES; do
		echo "## $n targets, 5 echoes each at 1 s, $REPS repetitions"
		echo
		echo '```'
		echo "peerbench load -n $n -c 5 -i 1s -W 1s -reps $REPS -peers $PEERS"
		echo '```'
		echo
		"$BIN" load -n "$n" -c 5 -i 1s -W 1s -reps "$REPS" -peers "$PEERS" -limit 180s
		echo
	done
	echo "## Loopback RTT, 1,000 echoes at 10 ms, $RTT_ROUNDS rounds"
	echo
	echo '```'
	echo "peerbench rtt -n 1000 -i 10ms -rounds $RTT_ROUNDS"
	echo '```'
	echo
	"$BIN" rtt -n 1000 -i 10ms -rounds "$RTT_ROUNDS"
	echo
	echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"
echo "wrote $OUT" >&2
