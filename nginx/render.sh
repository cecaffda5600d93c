#!/bin/sh
# shellcheck disable=SC2016 # single quotes on purpose: bash -c scripts and envsubst/grep patterns
# Renders nginx/templates/*.template into a conf.d directory with envsubst,
# substituting only pingapi's variables (nginx's own $variables stay), the
# same way nginx's official image does at container start. Used by
# deploy/test-nginx.sh, and to install the configuration on a host without
# Docker (docs/DEPLOY.md).
#
# usage: DOMAIN=example.org nginx/render.sh [TEMPLATE_DIR [OUT_DIR]]
#   TEMPLATE_DIR defaults to nginx/templates, OUT_DIR to /etc/nginx/conf.d.
# Variables and their defaults (those of docker-compose.yml):
#   DOMAIN (required), API_UPSTREAM=api:8080, HTTP_LISTEN=80,
#   HTTPS_LISTEN=443, CERTS_ROOT=/etc/letsencrypt,
#   ACME_WEBROOT=/var/www/certbot, RESOLVER=127.0.0.11,
#   MONITOR_MAX_BODY=8388608 (bytes; the service's own default)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/templates}
out=${2:-/etc/nginx/conf.d}

: "${DOMAIN:?DOMAIN must be set (the public name nginx serves)}"
export DOMAIN
export API_UPSTREAM="${API_UPSTREAM:-api:8080}"
export HTTP_LISTEN="${HTTP_LISTEN:-80}"
export HTTPS_LISTEN="${HTTPS_LISTEN:-443}"
export CERTS_ROOT="${CERTS_ROOT:-/etc/letsencrypt}"
export ACME_WEBROOT="${ACME_WEBROOT:-/var/www/certbot}"
export RESOLVER="${RESOLVER:-127.0.0.11}"
export MONITOR_MAX_BODY="${MONITOR_MAX_BODY:-8388608}"

case $MONITOR_MAX_BODY in
'' | *[!0-9]*)
	echo "render.sh: MONITOR_MAX_BODY '$MONITOR_MAX_BODY' is not a number of bytes" >&2
	exit 1
	;;
esac
case $DOMAIN in
*[!A-Za-z0-9.-]* | .* | *. | *..*)
	echo "render.sh: DOMAIN '$DOMAIN' is not a host name" >&2
	exit 1
	;;
esac
command -v envsubst >/dev/null || {
	echo "render.sh: envsubst not found (Debian: apt-get install gettext-base)" >&2
	exit 1
}

vars='${DOMAIN} ${API_UPSTREAM} ${HTTP_LISTEN} ${HTTPS_LISTEN} ${CERTS_ROOT} ${ACME_WEBROOT} ${RESOLVER} ${MONITOR_MAX_BODY}'
mkdir -p "$out"
found=
for t in "$src"/*.template; do
	[ -e "$t" ] || continue
	found=1
	dst="$out/$(basename "$t" .template)"
	envsubst "$vars" <"$t" >"$dst.tmp"
	if grep -n '\${[A-Z_][A-Z0-9_]*}' "$dst.tmp" >&2; then
		echo "render.sh: $t uses a variable render.sh does not know" >&2
		rm -f "$dst.tmp"
		exit 1
	fi
	mv "$dst.tmp" "$dst"
	echo "render.sh: $dst"
done
[ -n "$found" ] || {
	echo "render.sh: no *.template in $src" >&2
	exit 1
}
