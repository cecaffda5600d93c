#!/usr/bin/env bash
# Runs `pingapi measure` (one or two builds) and fping on the same N
# loopback targets at the same time, each in a network namespace of its
# own, and prints each one's peak RSS and CPU time from GNU time, and the
# ratios to fping. Memory is the figure this compares: it does not depend
# on how busy the shared machine is.
#
#   bench/measure/sametime.sh PINGAPI_A [PINGAPI_B] [-- N COUNT EXTRA_ARGS...]
#   (as root; defaults N=10000 COUNT=5, EXTRA_ARGS=--json)
#
# measure: pingapi measure -c COUNT -i 1 -W 1 EXTRA_ARGS -f HOSTS > /dev/null
# fping:   fping -C COUNT -p 1000 -i <1000/N ms> -t 1000 -q -f HOSTS
set -euo pipefail
BINS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do BINS+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
N=${1:-10000} C=${2:-5}
shift 2 2>/dev/null || shift $#
EXTRA=("$@")
[ ${#EXTRA[@]} -eq 0 ] && EXTRA=(--json)
TMP=$(mktemp -d)
NS=()
cleanup() {
	for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
python3 -c "
for i in range($N): print('127.%d.%d.%d' % (10 + i // 62500, (i // 250) % 250, i % 250 + 1))" >"$TMP/hosts"
GAP=$(python3 -c "print(max(0.01, round(1000/$N, 3)))")
run() { # name netns cmd...
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" /usr/bin/time -f '%M %U %S %e' -o "$TMP/$name.time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || true
}
i=0
for b in "${BINS[@]}" fping; do
	ns=smt$$x$i
	NS+=("$ns")
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	if [ "$b" = fping ]; then
		run fping "$ns" fping -C "$C" -p 1000 -i "$GAP" -t 1000 -q -f "$TMP/hosts" &
	else
		run "m$i" "$ns" "$b" measure -c "$C" -i 1 -W 1 "${EXTRA[@]}" -f "$TMP/hosts" &
	fi
	i=$((i + 1))
done
wait
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $N targets x $C echoes; measure args: ${EXTRA[*]}"
# GNU time puts "Command exited with non-zero status N" first when it did.
read -r fk fu fs fe < <(tail -1 "$TMP/fping.time")
[ -s "$TMP/fping.err" ] && grep -q 'fping error' "$TMP/fping.err" && echo "fping failed: $(grep -m1 'fping error' "$TMP/fping.err")"
printf '%-40s %9s %8s %8s %8s %9s %9s\n' peer "maxRSS KiB" "user s" "sys s" "wall s" "RSS/fping" "CPU/fping"
printf '%-40s %9d %8s %8s %8s\n' "fping" "$fk" "$fu" "$fs" "$fe"
i=0
for b in "${BINS[@]}"; do
	read -r k u s e < <(tail -1 "$TMP/m$i.time")
	awk -v b="$b" -v k="$k" -v u="$u" -v s="$s" -v e="$e" -v fk="$fk" -v fu="$fu" -v fs="$fs" \
		'BEGIN{printf "%-40s %9d %8s %8s %8s %9.2f %9.2f\n", b, k, u, s, e, k/fk, (u+s)/(fu+fs)}'
	lines=$(wc -l <"$TMP/m$i.out")
	echo "  $lines lines of output; $(grep -c '"count_received":0,' "$TMP/m$i.out" || true) targets with no reply; stderr: $(head -c 300 "$TMP/m$i.err")"
	i=$((i + 1))
done
echo "  fping: $(grep -c ' -' "$TMP/fping.err" || true) targets with a loss"
