#!/usr/bin/env bash
# shellcheck disable=SC2016 # single quotes on purpose: bash -c scripts and envsubst/grep patterns
# Checks certbot/certbot.sh without Let's Encrypt (unreachable here): the
# dummy certificate, where domain and e-mail come from (options, environment,
# .env, a terminal prompt), validation, idempotence, and the commands the
# full flow would run (--dry-run). Runs a copy of the script in a temp tree
# so no real .env or data/ is read or written.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib.sh"
need openssl

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/repo/certbot"
cp "$repo/certbot/certbot.sh" "$tmp/repo/certbot/"
cp "$repo/docker-compose.yml" "$tmp/repo/"
cb=$tmp/repo/certbot/certbot.sh
# cbrun ARGS...: the script with no DOMAIN/CERTBOT_* in the environment and
# no terminal on stdin; output in $tmp/out, status in $rc.
cbrun() {
	rc=0
	env -u DOMAIN -u CERTBOT_EMAIL -u CERTBOT_STAGING "$@" </dev/null >"$tmp/out" 2>&1 || rc=$?
}
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256; }

conf=$tmp/conf
cbrun "$cb" --dummy-only --domain pingapi.test --conf-dir "$conf" --webroot "$tmp/www"
live=$conf/live/pingapi.test
check "--dummy-only creates fullchain, chain and key (rc=$rc)" \
	test "$rc" = 0 -a -s "$live/fullchain.pem" -a -s "$live/chain.pem" -a -s "$live/privkey.pem"
check "the dummy key is readable by its owner only" [ "$(stat -c %a "$live/privkey.pem")" = 600 ]
check "the dummy certificate names the domain (SAN)" \
	bash -c 'openssl x509 -in "$1" -noout -ext subjectAltName | grep -q "DNS:pingapi.test"' _ "$live/fullchain.pem"
check "the dummy key matches the certificate" \
	bash -c '[ "$(openssl x509 -in "$1" -noout -pubkey)" = "$(openssl pkey -in "$2" -pubout)" ]' _ "$live/fullchain.pem" "$live/privkey.pem"
check "the ACME webroot exists" test -d "$tmp/www/.well-known/acme-challenge"
before=$(fp "$live/fullchain.pem")
cbrun "$cb" --dummy-only --domain pingapi.test --conf-dir "$conf" --webroot "$tmp/www"
check "running again keeps the existing certificate (rc=$rc)" [ "$rc" = 0 -a "$(fp "$live/fullchain.pem")" = "$before" ]

cbrun env DOMAIN=env.pingapi.test "$cb" --dummy-only --conf-dir "$conf" --webroot "$tmp/www"
check "domain from the environment (rc=$rc)" test "$rc" = 0 -a -s "$conf/live/env.pingapi.test/fullchain.pem"
printf 'DOMAIN = "dotenv.pingapi.test"\nCERTBOT_EMAIL=ops@pingapi.test\n' >"$tmp/repo/.env"
cbrun "$cb" --dummy-only --conf-dir "$conf" --webroot "$tmp/www"
check "domain from the .env beside docker-compose.yml (rc=$rc)" test "$rc" = 0 -a -s "$conf/live/dotenv.pingapi.test/fullchain.pem"
rm "$tmp/repo/.env"

cbrun "$cb" --dummy-only --conf-dir "$conf"
check "no domain and no terminal: refused (rc=$rc)" bash -c '[ "$1" != 0 ] && grep -q "no domain" "$2"' _ "$rc" "$tmp/out"
for bad in 'bad_name!' 'single' '-x.test' 'a..b.test'; do
	cbrun "$cb" --dummy-only --domain "$bad" --conf-dir "$conf"
	check "invalid domain '$bad' refused (rc=$rc)" bash -c '[ "$1" != 0 ] && grep -q "not a fully qualified" "$2"' _ "$rc" "$tmp/out"
done
cbrun "$cb" --dry-run --domain pingapi.test --conf-dir "$conf"
check "the real request needs an e-mail (rc=$rc)" bash -c '[ "$1" != 0 ] && grep -q "no e-mail" "$2"' _ "$rc" "$tmp/out"
cbrun "$cb" --dry-run --domain pingapi.example.org --email a@pingapi.test --conf-dir "$conf"
check "the .env.example placeholder domain is refused for a real request (rc=$rc)" bash -c '[ "$1" != 0 ] && grep -q placeholder "$2"' _ "$rc" "$tmp/out"

if command -v script >/dev/null; then
	rc=0
	printf 'tty.pingapi.test\n' | env -u DOMAIN script -qec "$cb --dummy-only --conf-dir $conf --webroot $tmp/www" /dev/null >"$tmp/out" 2>&1 || rc=$?
	check "asks for the domain at a terminal (rc=$rc)" test "$rc" = 0 -a -s "$conf/live/tty.pingapi.test/fullchain.pem"
fi

# The full flow, printed: the dummy is already there, nginx starts without
# the api, the dummy goes, certbot answers HTTP-01 on the webroot, nginx
# reloads.
conf2=$tmp/conf2
cbrun "$cb" --dry-run --staging --domain pingapi.test --email ops@pingapi.test --conf-dir "$conf2" --webroot "$tmp/www2"
check "--dry-run succeeds (rc=$rc)" [ "$rc" = 0 ]
check "--dry-run changes nothing" test ! -e "$conf2"
check "starts nginx alone (up -d --no-deps nginx)" grep -q 'up -d --no-deps nginx' "$tmp/out"
check "requests by HTTP-01 on the webroot" grep -q 'certonly --webroot -w /var/www/certbot --cert-name pingapi.test -d pingapi.test --email ops@pingapi.test' "$tmp/out"
check "--staging reaches certbot" grep -q 'certonly.*--staging' "$tmp/out"
check "reloads nginx afterwards" grep -q 'exec nginx nginx -s reload' "$tmp/out"
check "order: dummy, nginx up, dummy removed, certonly, reload" bash -c '
	a=$(grep -n "openssl req" "$1" | cut -d: -f1); b=$(grep -n "no-deps nginx" "$1" | cut -d: -f1)
	c=$(grep -n "^+ rm -rf" "$1" | cut -d: -f1); d=$(grep -n "certonly" "$1" | cut -d: -f1)
	e=$(grep -n "nginx -s reload" "$1" | cut -d: -f1)
	[ "$a" -lt "$b" ] && [ "$b" -lt "$c" ] && [ "$c" -lt "$d" ] && [ "$d" -lt "$e" ]' _ "$tmp/out"
cbrun env CERTBOT_STAGING=0 "$cb" --dry-run --domain pingapi.test --email ops@pingapi.test --conf-dir "$conf2"
check "no --staging unless asked" bash -c '! grep -q -- "--staging" "$1"' _ "$tmp/out"

# A real certificate (certbot's renewal file) is left alone.
mkdir -p "$conf/renewal" && echo "# certbot" >"$conf/renewal/pingapi.test.conf"
cbrun "$cb" --dry-run --domain pingapi.test --email ops@pingapi.test --conf-dir "$conf"
check "an existing Let's Encrypt certificate: nothing to do (rc=$rc)" \
	bash -c '[ "$1" = 0 ] && grep -q "nothing to do" "$2" && ! grep -q certonly "$2"' _ "$rc" "$tmp/out"
cbrun "$cb" --dry-run --force --domain pingapi.test --email ops@pingapi.test --conf-dir "$conf"
check "--force requests a new one" grep -q 'certonly.*--force-renewal' "$tmp/out"
finish test-certbot
