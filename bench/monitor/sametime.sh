#!/usr/bin/env bash
# Runs two monitorbench binaries and fping at the same time, each in a
# network namespace of its own, so that all three see the same machine:
# on a shared or virtual machine, runs minutes apart can differ by more
# than the difference being measured.
#
#   sudo bench/monitor/sametime.sh BIN_A BIN_B [HOSTS]
#
# BIN_A and BIN_B are builds of ./bench/monitor (for instance this tree's
# and another commit's). Each runs -hosts HOSTS (default 10000) -rounds 2 at
# Ping903's defaults and measures its second minute; fping -c 10 -p 1000
# -i 1 starts at second 60 on HOSTS loopback addresses, and its CPU comes
# from bash's time. Prints each one's CPU per echo and replies lost.
set -euo pipefail
A=$1 B=$2 N=${3:-10000}
TMP=$(mktemp -d)
NS=(sta$$ stb$$ stf$$)
cleanup() {
	for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
for ns in "${NS[@]}"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
python3 -c "
for i in range($N): print('127.%d.%d.%d' % (10 + i // 62500, (i // 250) % 250, i % 250 + 1))" >"$TMP/hosts"
ip netns exec "${NS[0]}" "$A" -hosts "$N" -rounds 2 >"$TMP/a" 2>&1 &
ip netns exec "${NS[1]}" "$B" -hosts "$N" -rounds 2 >"$TMP/b" 2>&1 &
sleep 60
ip netns exec "${NS[2]}" bash -c "TIMEFORMAT='%U %S %R'; time fping -q -c 10 -p 1000 -i 1 -f $TMP/hosts 2>/dev/null" 2>"$TMP/f" || true
wait
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for x in a b; do
	bin=$A
	[ "$x" = b ] && bin=$B
	echo "$bin: $(grep 'cpu per echo' "$TMP/$x" | tr -s ' '), $(grep 'replies lost' "$TMP/$x" | tr -s ' ')"
done
awk -v n="$N" '{printf "fping: cpu per echo %.1f µs (user %s s, sys %s s, %s s for %d echoes)\n", ($1+$2)/(n*10)*1e6, $1, $2, $3, n*10}' "$TMP/f"
