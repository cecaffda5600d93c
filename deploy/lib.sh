# shellcheck shell=bash
# Shared helpers of the deploy/test-*.sh scripts; sourced, not run.
# Every check prints one PASS/FAIL line; finish exits non-zero when any
# failed. A test that cannot run here skips, except in CI (CI=true), where
# a skip is a failure.

fails=0

pass() { echo "PASS $*"; }
fail() {
	echo "FAIL $*"
	fails=$((fails + 1))
}

# check NAME CMD...: PASS when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# skip REASON: ends the test (exit 0), or fails it in CI.
skip() {
	if [ "${CI:-}" = true ]; then
		echo "FAIL (CI=true, cannot skip) $*"
		exit 1
	fi
	echo "SKIP $*"
	exit 0
}

# finish NAME: the summary line and the exit status.
finish() {
	if [ "$fails" -gt 0 ]; then
		echo "FAIL $1: $fails check(s) failed"
		exit 1
	fi
	echo "PASS $1: all checks passed"
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [TRIES]: waits until 127.0.0.1:PORT accepts connections,
# trying every 0.1 s (default 100 tries).
wait_port() {
	local port=$1 tries=${2:-100} i
	for ((i = 0; i < tries; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	return 1
}

# need CMD...: skips (fails in CI) when a command is missing.
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] || skip "$c not installed (scripts/install-deps.sh installs it)"
	done
}

# need_icmp: skips (fails in CI) unless this user can open ICMP sockets, as
# `pingapi serve` must at start: root (raw sockets), or a group inside
# net.ipv4.ping_group_range (unprivileged datagram sockets).
need_icmp() {
	[ "$(id -u)" = 0 ] && return 0
	local lo hi g
	read -r lo hi </proc/sys/net/ipv4/ping_group_range || skip "cannot read net.ipv4.ping_group_range"
	for g in $(id -G); do
		if [ "$g" -ge "$lo" ] && [ "$g" -le "$hi" ]; then return 0; fi
	done
	skip "ICMP needs root or net.ipv4.ping_group_range covering this user's groups (now: $lo $hi)"
}
