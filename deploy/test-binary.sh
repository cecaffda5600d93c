#!/usr/bin/env bash
# shellcheck disable=SC2016 # single quotes on purpose: bash -c scripts and envsubst/grep patterns
# Builds pingapi with the Dockerfile's own build command (deploy/build.sh),
# shows the binary is static (no dynamic loader), and runs it with an empty
# environment from an empty directory -- as root, chrooted into a read-only
# directory that holds only the binary (writable /data only), like the
# distroless image under compose but with even less --
# far enough to answer /healthz through `pingapi health`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib.sh"
need go readelf python3
need_icmp

tmp=$(mktemp -d)
serve_pid=''
cleanup() {
	[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

check "the Dockerfile builds with deploy/build.sh" grep -Eq '^[^#]*RUN .*deploy/build\.sh|^[^#]*sh deploy/build\.sh' "$repo/Dockerfile"
# What the image promises, read from the Dockerfile (no engine here to build it).
df=$repo/Dockerfile
final=$(awk '/^FROM /{n++} n>=2' "$df") # the final stage
check "multi-stage: golang build stage, distroless/static final stage" \
	bash -c 'grep -q "^FROM golang:" "$1" && grep -q "^FROM gcr.io/distroless/static" "$1"' _ "$df"
check "final stage runs as a non-root user" bash -c 'u=$(grep "^USER " <<<"$1" | tail -n1 | cut -d" " -f2); [ -n "$u" ] && [ "${u%%:*}" != 0 ] && [ "${u%%:*}" != root ]' _ "$final"
check "HEALTHCHECK calls the binary itself" grep -Eq '^ *CMD \["/pingapi", *"health"' <<<"$final"
check "EXPOSE 8080, VOLUME /data, DATA_DIR=/data" bash -c 'grep -q "^EXPOSE 8080" <<<"$1" && grep -q "^VOLUME \[\"/data\"\]" <<<"$1" && grep -q "DATA_DIR=/data" <<<"$1"' _ "$final"
check "VERSION and COMMIT build arguments reach the build" grep -q 'VERSION="${VERSION}" COMMIT="${COMMIT}" sh deploy/build.sh' "$df"
check ".dockerignore keeps .env and .git out of the build context" bash -c 'grep -qx ".env" "$1" && grep -qx ".git" "$1"' _ "$repo/.dockerignore"
mkdir -p "$tmp/root" "$tmp/empty" "$tmp/context"
# The build context the daemon would get: the tracked files (and the
# untracked ones of the work tree) minus .dockerignore, without .git; then
# the Dockerfile's RUN line, run by sh as in the golang image.
list_files() {
	if git -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$repo" ls-files --cached --others --exclude-standard
	else
		(cd "$repo" && find . -type f -printf '%P\n')
	fi
}
list_files |
	python3 -c '
import fnmatch, sys
pats = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    neg = line.startswith("!")
    pat = line.lstrip("!").strip("/")
    pats.append((neg, pat.split("/")))
def ignored(path):
    parts, out = path.split("/"), False
    for neg, segs in pats:  # Docker: the last matching pattern wins; a pattern also matches a parent directory
        if len(segs) <= len(parts) and all(fnmatch.fnmatchcase(p, s) for p, s in zip(parts, segs)):
            out = not neg
    return out
for path in sys.stdin.read().split("\n"):
    if path and not ignored(path):
        print(path)
' "$repo/.dockerignore" >"$tmp/context.list"
# (A tracked file deleted in the work tree is missing from the context too.)
{ tar -C "$repo" -cf - -T "$tmp/context.list" 2>/dev/null || true; } | tar -C "$tmp/context" -xf -
check "the build context holds no .git, .env or data/ ($(wc -l <"$tmp/context.list") files)" \
	bash -c '[ ! -e "$1/.git" ] && [ ! -e "$1/.env" ] && [ ! -e "$1/data" ] && [ -e "$1/.env.example" ]' _ "$tmp/context"
bin=$tmp/root/pingapi
run_line=$(grep -o 'VERSION="${VERSION}" COMMIT="${COMMIT}" sh deploy/build.sh [^ ]*' "$repo/Dockerfile")
if (cd "$tmp/context" && VERSION=v0.0.0-test COMMIT=0123456789ab sh deploy/build.sh "$bin"); then
	pass "the Dockerfile's build command ($run_line) builds a $(du -h "$bin" | cut -f1) binary from the build context"
else
	fail "the Dockerfile's build command failed in the build context"
	finish test-binary
fi

check "no program interpreter (readelf -l has no INTERP)" bash -c '! readelf -lW "$1" | grep -q INTERP' _ "$bin"
check "no dynamic section (readelf -d)" bash -c 'readelf -dW "$1" | grep -q "no dynamic section"' _ "$bin"
if command -v file >/dev/null; then
	check "file(1) says statically linked: $(file -b "$bin" | cut -d, -f1-5)" bash -c 'file -b "$1" | grep -q "statically linked"' _ "$bin"
fi
out=$(env -i "$bin" version)
check "pingapi version reports the build arguments ($out)" [ "$out" = "pingapi v0.0.0-test commit 0123456789ab $(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)" ]

port=$(free_port)
if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null && command -v unshare >/dev/null; then
	# As compose runs it (read_only: true, a volume on /data): the root is
	# mounted read-only in a private mount namespace, only /data is writable.
	how="chroot with only the binary, read-only but /data, env -i"
	mkdir -p "$tmp/root/data" "$tmp/data"
	(cd "$tmp/empty" && exec unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" &&
		mount --bind "$2" "$1/data" && exec env -i "$3" "$1" /pingapi serve --listen "127.0.0.1:$4"' \
		_ "$tmp/root" "$tmp/data" "$(command -v chroot)" "$port" >"$tmp/serve.log" 2>&1) &
else
	how="empty directory, env -i (not root: no chroot)"
	(cd "$tmp/empty" && exec env -i "$bin" serve --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1) &
fi
serve_pid=$!
ok=0
if wait_port "$port" 150; then
	for _ in $(seq 50); do
		if env -i "$bin" health --url "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
			ok=1
			break
		fi
		sleep 0.1
	done
fi
if [ "$ok" = 1 ]; then
	pass "pingapi serve ($how) answers pingapi health"
else
	fail "pingapi serve ($how) did not answer /healthz; its log:"
	sed 's/^/    /' "$tmp/serve.log" | tail -20
fi
check "pingapi health derives the URL from LISTEN_ADDR" env -i LISTEN_ADDR="127.0.0.1:$port" "$bin" health --quiet
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
serve_pid=''
check "pingapi health exits 1 when nothing answers" bash -c 'env -i "$1" health --timeout 1s --url "http://127.0.0.1:$2/healthz" 2>/dev/null; [ $? = 1 ]' _ "$bin" "$port"
finish test-binary
