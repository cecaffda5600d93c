#!/usr/bin/env bash
# Runs pingapi's engine benchmarks against fping and pro-bing on loopback
# targets (127.0.0.0/8, ::1 only) and writes a markdown report.
#
#   sudo bench/run.sh [OUT.md]          # default bench/results/peerbench-<UTC time>.md
#
# Environment: REPS (default 3), RTT_ROUNDS (default 5), SIZES (default
# "1000 10000"), PEERS (default "engine,fping,probing,idle"), NETNS (default 1).
#
# With NETNS=1 every peer runs inside a network namespace of its own with
# only its loopback up: a raw ICMP socket sees every ICMP packet of its
# namespace, so on a shared machine other programs' pings would otherwise
# land in fping's and pro-bing's sockets (the engine filters them in the
# kernel with BPF) and skew the comparison. The namespace is deleted at exit.
# Needs root (raw ICMP sockets for pro-bing; the engine also works with
# net.ipv4.ping_group_range), fping and iputils-ping. Takes about 6 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-3}
RTT_ROUNDS=${RTT_ROUNDS:-5}
SIZES=${SIZES:-"1000 10000"}
PEERS=${PEERS:-engine,fping,probing,idle}
mkdir -p bench/results
OUT=${1:-bench/results/peerbench-$(date -u +%Y%m%dT%H%M%SZ).md}
BIN=$(mktemp -d)/peerbench
NS=""
cleanup() {
	rm -rf "$(dirname "$BIN")"
	if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
}
trap cleanup EXIT
go build -o "$BIN" ./bench/cmd/peerbench
RUN=("$BIN")
PCAP=""
if [ "${NETNS:-1}" = 1 ]; then
	NS=pabench$$
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	RUN=(ip netns exec "$NS" "$BIN")
	# Alone on its loopback, a tcpdump capture is the wire's truth for RTT.
	if command -v tcpdump >/dev/null; then PCAP=-pcap; fi
fi

{
	echo "# peerbench $(date -u +'%Y-%m-%d %H:%M UTC')"
	echo
	echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -m | awk '/Mem:/{print $2}') MiB RAM"
	echo "- kernel: $(uname -r); $(go version | cut -d' ' -f3-); $(fping -v 2>&1 | head -1); $(ping -V 2>&1 | head -1)"
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- network namespace: ${NS:-none (host loopback)}"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	for n in $SIZES; do
		echo "## $n targets, 5 echoes each at 1 s, $REPS repetitions"
		echo
		echo '```'
		echo "peerbench load -n $n -c 5 -i 1s -W 1s -reps $REPS -peers $PEERS"
		echo '```'
		echo
		"${RUN[@]}" load -n "$n" -c 5 -i 1s -W 1s -reps "$REPS" -peers "$PEERS" -limit 180s
		echo
	done
	echo "## Loopback RTT, 1,000 echoes at 10 ms, $RTT_ROUNDS rounds"
	echo
	echo '```'
	echo "peerbench rtt -n 1000 -i 10ms -rounds $RTT_ROUNDS $PCAP"
	echo '```'
	echo
	"${RUN[@]}" rtt -n 1000 -i 10ms -rounds "$RTT_ROUNDS" $PCAP
	echo
	echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT"
echo "wrote $OUT" >&2
