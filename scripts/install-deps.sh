#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: the network tools
# the integration tests build their hosts with (iproute2, nftables), the
# peers the tests and benchmarks compare against (fping, iputils ping), nginx
# docker-compose, systemd-analyze and the tools the deployment tests use
# (envsubst, readelf, file, setpriv, tcpdump), Chromium for the dashboard's
# browser tests, the real check_ping that `pingapi check` is compared with
# (monitoring-plugins-basic), socat (the plain TCP echo client of the
# tcpecho tests), and the Go modules.
# Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in ip:iproute2 nft:nftables fping:fping ping:iputils-ping tcpdump:tcpdump \
	nginx:nginx-light docker-compose:docker-compose openssl:openssl curl:curl wrk:wrk \
	envsubst:gettext-base readelf:binutils file:file setpriv:util-linux \
	systemd-analyze:systemd python3:python3 chromium:chromium \
	/usr/lib/nagios/plugins/check_ping:monitoring-plugins-basic socat:socat; do
	cmd=${pair%%:*} pkg=${pair#*:}
	command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "$cmd" ] || need+=("$pkg")
done
# PostgreSQL for the archive's tests (they start a throwaway server with
# initdb/pg_ctl; its binaries are not on PATH).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${need[*]}"
	# Wait (up to 5 minutes) for another apt or dpkg process to release the
	# package lock instead of failing at once.
	lock=(-o DPkg::Lock::Timeout=300)
	apt-get "${lock[@]}" update -qq
	DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
go mod download
