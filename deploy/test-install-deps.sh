#!/usr/bin/env bash
# scripts/install-deps.sh waits for the dpkg lock instead of failing at once
# when another apt process holds it (issue 12): it runs, with a PATH that
# lacks the packages' commands, against a stub apt-get that fails as the real
# one does ("Could not get lock /var/lib/dpkg/lock-frontend") unless asked to
# wait with -o DPkg::Lock::Timeout=N.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/bin
mkdir -p "$bin"
ln -s "$(command -v dirname)" "$bin/dirname"
printf '#!%s\necho 0\n' "$(command -v bash)" >"$bin/id" # root
printf '#!%s\nexit 0\n' "$(command -v bash)" >"$bin/go"
cat >"$bin/apt-get" <<STUB
#!$(command -v bash)
echo "apt-get \$*" >>"$tmp/calls"
case " \$* " in
*" -o DPkg::Lock::Timeout="[1-9]*) exit 0 ;;
esac
echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
exit 100
STUB
chmod +x "$bin"/*

out=$(PATH=$bin "$(command -v bash)" "$repo/scripts/install-deps.sh" 2>&1) && rc=0 || rc=$?
check "install-deps.sh succeeds while another apt process holds the lock (it waits)" test "$rc" -eq 0
check "apt-get was called to install what is missing" grep -q ' install ' "$tmp/calls"
check "every apt-get call waits for the dpkg lock" bash -c '! grep -qv -- "-o DPkg::Lock::Timeout=[1-9]" "$1"' _ "$tmp/calls"
[ "$rc" -eq 0 ] || echo "$out" | sed 's/^/  | /'
finish "install-deps lock"
