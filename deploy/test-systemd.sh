#!/usr/bin/env bash
# shellcheck disable=SC2016 # single quotes on purpose: bash -c scripts and envsubst/grep patterns
# Checks deploy/pingapi.service and deploy/pingapi-agent.service with systemd-analyze (verify only: systemd
# need not be running). verify needs the ExecStart binary to exist, so it
# checks a copy whose ExecStart points at an executable in a temp dir; every other
# line is the repository's. Warnings (unknown keys, bad values) fail too:
# verify reports them but exits 0.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib.sh"
need systemd-analyze
unit=$repo/deploy/pingapi.service

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Any executable will do: verify checks that ExecStart exists, not what it is.
cp /bin/true "$tmp/pingapi"
sed "s|^ExecStart=/usr/local/bin/pingapi |ExecStart=$tmp/pingapi |" "$unit" >"$tmp/pingapi.service"
check "only ExecStart differs in the copy verified" [ "$(diff "$unit" "$tmp/pingapi.service" | grep -c '^[<>]')" = 2 ]

if systemd-analyze verify --man=no "$tmp/pingapi.service" >"$tmp/verify.log" 2>&1 && [ ! -s "$tmp/verify.log" ]; then
	pass "systemd-analyze verify: no errors, no warnings"
else
	fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
fi

# Exposure score 0 (locked down) .. 10 (unprotected); --threshold is in tenths.
score=$(systemd-analyze security --offline=yes "$tmp/pingapi.service" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
check "systemd-analyze security exposure ${score:-?} <= 2.0" bash -c 'systemd-analyze security --offline=yes --threshold=20 "$1" >/dev/null 2>&1' _ "$tmp/pingapi.service"

for want in 'DynamicUser=yes' 'StateDirectory=pingapi' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
	'CapabilityBoundingSet=CAP_NET_RAW' 'ProtectHome=yes' 'PrivateTmp=yes' \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK' 'EnvironmentFile=-/etc/pingapi/env'; do
	check "unit sets $want" grep -qx "$want" "$unit"
done
check "DATA_DIR is the state directory" grep -q '^Environment=.*DATA_DIR=/var/lib/pingapi' "$unit"

# The agent's unit: same checks, stricter (no capability at all).
agent=$repo/deploy/pingapi-agent.service
sed "s|^ExecStart=/usr/local/bin/pingapi |ExecStart=$tmp/pingapi |" "$agent" >"$tmp/pingapi-agent.service"
check "agent: only ExecStart differs in the copy verified" [ "$(diff "$agent" "$tmp/pingapi-agent.service" | grep -c '^[<>]')" = 2 ]
if systemd-analyze verify --man=no "$tmp/pingapi-agent.service" >"$tmp/verify-agent.log" 2>&1 && [ ! -s "$tmp/verify-agent.log" ]; then
	pass "agent: systemd-analyze verify: no errors, no warnings"
else
	fail "agent: systemd-analyze verify: $(cat "$tmp/verify-agent.log")"
fi
check "agent: systemd-analyze security exposure <= 1.5" bash -c 'systemd-analyze security --offline=yes --threshold=15 "$1" >/dev/null 2>&1' _ "$tmp/pingapi-agent.service"
for want in 'DynamicUser=yes' 'CapabilityBoundingSet=' 'NoNewPrivileges=yes' 'LoadCredential=token:/etc/pingapi/agent.token'; do
	check "agent unit sets $want" grep -qx "$want" "$agent"
done
check "agent unit runs pingapi agent --tls with the credential" grep -q '^ExecStart=/usr/local/bin/pingapi agent .*--tls --token-file %d/token' "$agent"
finish test-systemd
