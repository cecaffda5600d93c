#!/bin/sh
# Builds the static pingapi binary. This is the one build command: the
# Dockerfile's build stage runs it, and deploy/test-binary.sh runs it to show
# the result is static and starts in an empty environment.
#
# usage: deploy/build.sh [OUTPUT]        (default OUTPUT: ./pingapi)
# environment: VERSION (default: dev), COMMIT (default: git HEAD, or unknown)
#
# CGO_ENABLED=0 gives a binary with no dynamic loader (it runs on distroless
# static or scratch); -trimpath drops build paths; -s -w strip the symbol
# table and DWARF; the -X flags set what `pingapi version` prints.
set -eu
cd "$(dirname "$0")/.."
out=${1:-pingapi}
version=${VERSION:-dev}
commit=${COMMIT:-}
if [ -z "$commit" ]; then
	commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
fi
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=${version} -X main.commit=${commit}" \
	-o "$out" ./cmd/pingapi
