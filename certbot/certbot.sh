#!/usr/bin/env bash
# Obtains the Let's Encrypt certificate nginx serves, for the Docker Compose
# deployment (docs/DEPLOY.md):
#   1. creates a short-lived self-signed "dummy" certificate, so nginx can
#      start with the TLS server configured;
#   2. starts nginx (without waiting for the api) to answer HTTP-01;
#   3. replaces the dummy by a real certificate from certbot --webroot;
#   4. reloads nginx. The certbot service then renews it every 12 h.
# Safe to run again: an existing real certificate is left alone (certbot
# renews it), an existing dummy is reused. If the request fails, the dummy is
# put back so nginx keeps starting.
#
# Domain and e-mail come from, in order: the options, the environment
# (DOMAIN, CERTBOT_EMAIL, CERTBOT_STAGING), the .env beside
# docker-compose.yml, and a prompt when run at a terminal.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: certbot/certbot.sh [options]
  -d, --domain NAME     public name of the service (env DOMAIN)
  -m, --email ADDR      e-mail for Let's Encrypt (env CERTBOT_EMAIL)
      --staging         use Let's Encrypt's staging CA (env CERTBOT_STAGING=1)
      --force           request a new certificate even if one exists
      --dummy-only      only create the dummy certificate (no Docker needed)
      --dry-run         print what would be done, change nothing
      --conf-dir DIR    certbot configuration directory on the host
                        (default: data/certbot/conf, as docker-compose.yml mounts)
      --webroot DIR     ACME webroot on the host (default: data/certbot/www)
  -h, --help            this help
USAGE
}

root=$(cd "$(dirname "$0")/.." && pwd)
compose_file=$root/docker-compose.yml
conf_dir=$root/data/certbot/conf
webroot=$root/data/certbot/www
domain=${DOMAIN:-}
email=${CERTBOT_EMAIL:-}
staging=${CERTBOT_STAGING:-0}
force=0 dummy_only=0 dry_run=0

die() {
	echo "certbot.sh: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	-d | --domain) domain=${2:?--domain needs a value}; shift ;;
	--domain=*) domain=${1#*=} ;;
	-m | --email) email=${2:?--email needs a value}; shift ;;
	--email=*) email=${1#*=} ;;
	--staging) staging=1 ;;
	--force) force=1 ;;
	--dummy-only) dummy_only=1 ;;
	--dry-run) dry_run=1 ;;
	--conf-dir) conf_dir=${2:?--conf-dir needs a value}; shift ;;
	--webroot) webroot=${2:?--webroot needs a value}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown option '$1'" ;;
	esac
	shift
done

# dotenv KEY prints KEY's value from the .env beside docker-compose.yml,
# without sourcing it (it is data, not a script).
dotenv() {
	local f=$root/.env
	[ -r "$f" ] || return 0
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$f" | tail -n1 |
		sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}
[ -n "$domain" ] || domain=$(dotenv DOMAIN)
[ -n "$email" ] || email=$(dotenv CERTBOT_EMAIL)
[ "$staging" != 0 ] || staging=$(dotenv CERTBOT_STAGING)
[ -n "$staging" ] || staging=0

if [ -t 0 ]; then
	if [ -z "$domain" ]; then read -r -p "Domain (e.g. api.example.org): " domain; fi
	if [ -z "$email" ] && [ "$dummy_only" = 0 ]; then read -r -p "E-mail for Let's Encrypt: " email; fi
fi

valid_domain() {
	[ ${#1} -le 253 ] || return 1
	[[ $1 =~ ^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]]
}
[ -n "$domain" ] || die "no domain: pass --domain, set DOMAIN, or run at a terminal"
valid_domain "$domain" || die "'$domain' is not a fully qualified host name"
if [ "$dummy_only" = 0 ]; then
	[ -n "$email" ] || die "no e-mail: pass --email, set CERTBOT_EMAIL, or run at a terminal"
	[[ $email =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]] || die "'$email' is not an e-mail address"
	case $domain in
	example.com | *.example.com | example.org | *.example.org | example.net | *.example.net)
		die "'$domain' is the .env.example placeholder: set DOMAIN to your own name" ;;
	esac
fi

# run prints a command, and runs it unless --dry-run.
run() {
	echo "+ $*"
	[ "$dry_run" = 1 ] || "$@"
}

compose() {
	local c=(docker-compose)
	if docker compose version >/dev/null 2>&1; then c=(docker compose); fi
	run "${c[@]}" -f "$compose_file" "$@"
}

live=$conf_dir/live/$domain

make_dummy() {
	if [ -s "$live/fullchain.pem" ] && [ -s "$live/privkey.pem" ]; then
		echo "certbot.sh: certificate files for $domain already present in $live"
		return 0
	fi
	command -v openssl >/dev/null || die "openssl is needed for the dummy certificate"
	echo "certbot.sh: creating a dummy certificate for $domain in $live"
	run mkdir -p "$live" "$webroot/.well-known/acme-challenge"
	local mask
	mask=$(umask)
	umask 077 # the private key is never readable by others, not even briefly
	run openssl req -x509 -nodes -days 7 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-keyout "$live/privkey.pem" -out "$live/fullchain.pem" \
		-subj "/CN=$domain" -addext "subjectAltName=DNS:$domain"
	umask "$mask"
	run cp "$live/fullchain.pem" "$live/chain.pem"
}

remove_dummy() {
	run rm -rf "$conf_dir/live/$domain" "$conf_dir/archive/$domain" "$conf_dir/renewal/$domain.conf"
}

if [ -s "$conf_dir/renewal/$domain.conf" ] && [ "$force" = 0 ]; then
	echo "certbot.sh: a Let's Encrypt certificate for $domain exists; nothing to do (the certbot service renews it; --force requests a new one)"
	exit 0
fi

make_dummy
if [ "$dummy_only" = 1 ]; then
	echo "certbot.sh: dummy certificate ready; stopping here (--dummy-only)"
	exit 0
fi

[ -f "$compose_file" ] || die "$compose_file not found"
# nginx only: its upstream is resolved per request, so it starts (and answers
# the challenge) even before the api is configured.
compose up -d --no-deps nginx
remove_dummy
args=(certonly --webroot -w /var/www/certbot --cert-name "$domain" -d "$domain"
	--email "$email" --agree-tos --no-eff-email --non-interactive)
[ "$staging" = 0 ] || args+=(--staging)
[ "$force" = 0 ] || args+=(--force-renewal)
if ! compose run --rm --no-deps --entrypoint certbot certbot "${args[@]}"; then
	echo "certbot.sh: certbot failed; restoring the dummy certificate so nginx keeps running" >&2
	make_dummy
	exit 1
fi
compose exec nginx nginx -s reload
echo "certbot.sh: certificate for $domain installed; start everything with: docker-compose up -d"
