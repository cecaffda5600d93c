#!/usr/bin/env bash
# Shows that the deployments' ICMP set-ups work, by recreating each one's
# privileges around the real `pingapi serve` in a network namespace of the
# test's own (it measures 127.0.0.1 inside that namespace, nothing else):
#   compose: uid/gid 65532 (distroless nonroot), no capabilities at all,
#            no_new_privs, net.ipv4.ping_group_range "0 2147483647" set in
#            the namespace as compose's sysctls: does -> measurement works;
#   control: the same with the range empty ("1 0")  -> no echo gets out;
#   systemd: an unprivileged user, empty range (Debian 12's default),
#            CAP_NET_RAW ambient and the only one in the bounding set, as
#            deploy/pingapi.service grants it        -> measurement works.
# Needs root (namespaces, setpriv).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib.sh"
need ip setpriv curl python3 go
[ "$(id -u)" = 0 ] || skip "test-icmp needs root (network namespace, setpriv)"

ns=pingapi-deploy-$$
tmp=$(mktemp -d)
pid=''
stop() {
	[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	[ -z "$pid" ] || wait "$pid" 2>/dev/null || true
	pid=''
}
cleanup() {
	stop
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"
"$repo/deploy/build.sh" "$tmp/pingapi" >/dev/null || { fail "deploy/build.sh failed"; finish test-icmp; }
ip netns add "$ns"
ip -n "$ns" link set lo up
inns() { ip netns exec "$ns" "$@"; }

# measure NAME RANGE SETPRIV-ARGS...: serve under those privileges in the
# namespace with that ping_group_range; prints count_received of c=2 (or
# the HTTP status when not 200) into $tmp/result.
measure() {
	local name=$1 range=$2
	shift 2
	inns sysctl -qw net.ipv4.ping_group_range="$range"
	rm -rf "$tmp/data" && install -d -o 65532 -g 65532 -m 0700 "$tmp/data"
	local port=18080
	(cd "$tmp" && exec ip netns exec "$ns" setpriv "$@" -- env -i \
		LISTEN_ADDR="127.0.0.1:$port" DATA_DIR="$tmp/data" "$tmp/pingapi" serve >"$tmp/serve-$name.log" 2>&1) &
	pid=$!
	local ok=0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break # serve gave up
		if inns "$tmp/pingapi" health --quiet --url "http://127.0.0.1:$port/healthz" 2>/dev/null; then
			ok=1
			break
		fi
		sleep 0.1
	done
	if [ "$ok" = 0 ]; then
		echo "serve did not start: $(grep -o 'cannot open an ICMP socket[^;]*' "$tmp/serve-$name.log" | head -n1)" >"$tmp/result"
		stop
		return
	fi
	local token
	token=$(setpriv --reuid=65532 --regid=65532 --clear-groups "$tmp/pingapi" token --data-dir "$tmp/data")
	inns curl -s -m 20 -H "Authorization: Bearer $token" -w '\n%{http_code}' \
		"http://127.0.0.1:$port/pingapi/127.0.0.1?c=2" >"$tmp/body" || true
	python3 -c '
import json, sys
body, code = open(sys.argv[1]).read().rsplit("\n", 1)
if code != "200":
    print("status " + code)
else:
    print(json.loads(body)["count_received"])
' "$tmp/body" >"$tmp/result" 2>&1 || echo "unreadable: $(head -c 200 "$tmp/body")" >"$tmp/result"
	stop
}

nonroot=(--reuid=65532 --regid=65532 --clear-groups --nnp)
measure compose "0 2147483647" "${nonroot[@]}" --inh-caps=-all --bounding-set=-all
r=$(cat "$tmp/result")
check "compose: uid 65532, no capabilities, ping_group_range 0-2147483647: 2 of 2 echoes ($r)" [ "$r" = 2 ]

measure control "1 0" "${nonroot[@]}" --inh-caps=-all --bounding-set=-all
r=$(cat "$tmp/result")
check "control: same without the sysctl: no echo measured ($r)" [ "$r" != 2 ]

measure systemd "1 0" --reuid=65532 --regid=65532 --clear-groups --nnp \
	--inh-caps=-all,+net_raw --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw
r=$(cat "$tmp/result")
check "systemd: unprivileged user, empty range, ambient CAP_NET_RAW only: 2 of 2 echoes ($r)" [ "$r" = 2 ]
finish test-icmp
