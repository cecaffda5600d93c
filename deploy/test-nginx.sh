#!/usr/bin/env bash
# shellcheck disable=SC2016 # single quotes on purpose: bash -c scripts and envsubst/grep patterns
# Runs Debian's nginx on loopback with the repository's nginx template
# (rendered by nginx/render.sh, exactly as compose renders it) and a dummy
# certificate from certbot/certbot.sh, in front of the real `pingapi serve`
# in dev mode, and checks through TLS what docs/DEPLOY.md promises.
# Ports are free high ports in place of 80/443; everything lives in a temp
# directory removed on exit. Needs nginx, openssl, curl, python3, go, and
# ICMP on loopback (root, or ping_group_range) for the measurements.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib.sh"
need nginx openssl curl python3 go envsubst
need_icmp

domain=pingapi.test
tmp=$(mktemp -d)
api_pid='' nginx_pid=''
cleanup() {
	[ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
	[ -z "$api_pid" ] || kill "$api_pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
# nginx's workers run as nobody when the test runs as root: they must be
# able to read the webroot under $tmp.
chmod 755 "$tmp"

echo "building pingapi with deploy/build.sh"
"$repo/deploy/build.sh" "$tmp/pingapi" >/dev/null || { fail "deploy/build.sh failed"; finish test-nginx; }

api_port=$(free_port)
http_port=$(free_port)
https_port=$(free_port)
while [ "$https_port" = "$http_port" ] || [ "$https_port" = "$api_port" ] || [ "$http_port" = "$api_port" ]; do
	http_port=$(free_port)
	https_port=$(free_port)
done

# The service: dev mode on loopback; it believes X-Forwarded-For only from
# nginx's address (127.0.0.1), as compose trusts nginx's network. It runs in
# $tmp so no .env of the developer's is read.
mkdir -p "$tmp/data"
(cd "$tmp" && exec env LISTEN_ADDR="127.0.0.1:$api_port" DATA_DIR="$tmp/data" \
	TRUSTED_PROXIES=127.0.0.1/32 LOG_LEVEL=info LOG_FORMAT=text \
	"$tmp/pingapi" serve >"$tmp/serve.log" 2>&1) &
api_pid=$!
if wait_port "$api_port" 150 && "$tmp/pingapi" health --quiet --url "http://127.0.0.1:$api_port/healthz"; then
	pass "pingapi serve answers /healthz on 127.0.0.1:$api_port"
else
	fail "pingapi serve did not start; its log:"
	sed 's/^/    /' "$tmp/serve.log" | tail -20
	finish test-nginx
fi
for _ in $(seq 100); do
	"$tmp/pingapi" health --quiet --url "http://127.0.0.1:$api_port/readyz" 2>/dev/null && break
	sleep 0.1
done
token=$("$tmp/pingapi" token --data-dir "$tmp/data" 2>"$tmp/token.err" | tail -n1 | tr -d '[:space:]') || true
if [[ $token =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]; then
	pass "pingapi token mints a JWT from the data directory"
else
	fail "pingapi token: got '$token' $(cat "$tmp/token.err")"
fi

# The certificate: certbot.sh's dummy, in certbot's directory layout.
"$repo/certbot/certbot.sh" --dummy-only --domain "$domain" \
	--conf-dir "$tmp/letsencrypt" --webroot "$tmp/www" >"$tmp/certbot.log" 2>&1 ||
	{ fail "certbot.sh --dummy-only: $(cat "$tmp/certbot.log")"; finish test-nginx; }
cacert=$tmp/letsencrypt/live/$domain/fullchain.pem
chmod -R a+rX "$tmp/www"

# render.sh refuses what would give a broken configuration.
check "render.sh refuses an empty DOMAIN" bash -c '! env -u DOMAIN "$1/nginx/render.sh" "$1/nginx/templates" "$2/r1" 2>/dev/null' _ "$repo" "$tmp"
check "render.sh refuses a DOMAIN that is not a host name" bash -c '! DOMAIN="x.test;evil" "$1/nginx/render.sh" "$1/nginx/templates" "$2/r2" 2>/dev/null' _ "$repo" "$tmp"
mkdir -p "$tmp/badtpl" && printf 'server_name ${DOMAIN} ${UNKNOWN_VAR};\n' >"$tmp/badtpl/x.conf.template"
check "render.sh refuses a template variable it does not know" bash -c '! DOMAIN=x.test "$1/nginx/render.sh" "$2/badtpl" "$2/r3" 2>/dev/null && [ ! -e "$2/r3/x.conf" ]' _ "$repo" "$tmp"

# The configuration: the template rendered by render.sh, included by a main
# file that puts pid, logs and temp files in $tmp.
DOMAIN=$domain API_UPSTREAM="127.0.0.1:$api_port" HTTP_LISTEN="127.0.0.1:$http_port" \
	HTTPS_LISTEN="127.0.0.1:$https_port" CERTS_ROOT="$tmp/letsencrypt" \
	ACME_WEBROOT="$tmp/www" RESOLVER=127.0.0.1 \
	"$repo/nginx/render.sh" "$repo/nginx/templates" "$tmp/conf.d" >/dev/null
cat >"$tmp/nginx.conf" <<CONF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log notice;
events { worker_connections 512; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $tmp/access.log;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $tmp/conf.d/*.conf;
}
CONF
ngx=(nginx -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log")
if "${ngx[@]}" -t >"$tmp/nginx-t.log" 2>&1; then
	pass "nginx -t accepts the rendered configuration"
else
	fail "nginx -t: $(cat "$tmp/nginx-t.log")"
	finish test-nginx
fi
# The same file must also load under Debian's own /etc/nginx/nginx.conf
# (the systemd deployment in docs/DEPLOY.md), which sets TLS directives at
# http level that a second value would clash with.
if [ -r /etc/nginx/nginx.conf ]; then
	cp -r /etc/nginx "$tmp/debian-nginx"
	sed -i -e "s#^pid .*#pid $tmp/debian-nginx.pid;#" -e "s#/etc/nginx/conf.d/\*.conf#$tmp/conf.d/*.conf#" \
		-e "s#/etc/nginx/sites-enabled/\*#$tmp/debian-nginx/no-sites/*#" "$tmp/debian-nginx/nginx.conf"
	if nginx -t -c "$tmp/debian-nginx/nginx.conf" -e "$tmp/error.log" >"$tmp/nginx-t-debian.log" 2>&1 &&
		! grep -q 'duplicate' "$tmp/nginx-t-debian.log"; then
		pass "nginx -t accepts it under Debian's stock nginx.conf too, without duplicate warnings"
	else
		fail "under Debian's nginx.conf: $(grep -v stapling "$tmp/nginx-t-debian.log")"
	fi
fi
"${ngx[@]}" -g 'daemon off;' &
nginx_pid=$!
if ! wait_port "$https_port" || ! wait_port "$http_port"; then
	fail "nginx did not start: $(cat "$tmp/error.log")"
	finish test-nginx
fi

https=https://$domain:$https_port
tls=(--silent --show-error --resolve "$domain:$https_port:127.0.0.1" --cacert "$cacert" --max-time 30)
auth=(-H "Authorization: Bearer $token")

# --- plain HTTP: redirect, except the ACME challenge ---------------------
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$http_port/pingapi/127.0.0.1?c=1" -H "Host: $domain")
check "HTTP redirects to HTTPS ($out)" [ "$out" = "301 https://$domain/pingapi/127.0.0.1?c=1" ]
mkdir -p "$tmp/www/.well-known/acme-challenge"
echo "challenge-$$" >"$tmp/www/.well-known/acme-challenge/tok-$$"
chmod -R a+rX "$tmp/www"
code=$(curl -s -o "$tmp/acme.out" -w '%{http_code}' "http://127.0.0.1:$http_port/.well-known/acme-challenge/tok-$$" -H "Host: $domain")
check "HTTP serves the ACME challenge from the webroot, not redirected ($code $(cat "$tmp/acme.out"))" \
	[ "$code" = 200 -a "$(cat "$tmp/acme.out")" = "challenge-$$" ]

# --- TLS -------------------------------------------------------------------
hdrs=$(curl "${tls[@]}" -o /dev/null -D - "$https/healthz" | tr -d '\r')
check "HTTPS /healthz reaches the service (200)" grep -q '^HTTP/[0-9.]* 200' <<<"$hdrs"
check "HSTS header present" grep -qi '^strict-transport-security: max-age=[0-9]\{8,\}' <<<"$hdrs"
check "Server header carries no version (server_tokens off)" grep -qix 'server: nginx' <<<"$hdrs"
check "TLS 1.3 accepted" curl "${tls[@]}" -o /dev/null --tlsv1.3 "$https/healthz"
check "TLS 1.2 accepted" curl "${tls[@]}" -o /dev/null --tlsv1.2 --tls-max 1.2 "$https/healthz"
"${ngx[@]}" -T 2>/dev/null >"$tmp/nginx-T.txt"
check "only TLS 1.2 and 1.3 configured" bash -c '[ "$(grep -o "^ *ssl_protocols [^;]*" "$1" | sort -u | sed "s/^ *//")" = "ssl_protocols TLSv1.2 TLSv1.3" ]' _ "$tmp/nginx-T.txt"
check "TLS 1.1 refused" bash -c '! curl "$@" -o /dev/null --tlsv1.1 --tls-max 1.1 --ciphers DEFAULT@SECLEVEL=0 "'"$https"'/healthz" 2>/dev/null' _ "${tls[@]}"
check "a foreign SNI gets no certificate (handshake rejected)" bash -c '! curl --silent --resolve other.test:'"$https_port"':127.0.0.1 -k -o /dev/null https://other.test:'"$https_port"'/healthz'
code=$(curl "${tls[@]}" -o /dev/null -w '%{http_code}' "$https/metrics")
check "/metrics is not served to the internet ($code)" [ "$code" = 404 ]
head -c 40000 /dev/zero | tr '\0' 'a' >"$tmp/big.json"
code=$(curl "${tls[@]}" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary "@$tmp/big.json" "$https/pingapi")
check "a body over client_max_body_size is refused by nginx ($code)" [ "$code" = 413 ]

# The monitor's bulk list: nginx lets through what the service accepts
# (MONITOR_MAX_BODY, 8 MiB by default) and refuses more, on that route only.
python3 -c 'import json; print(json.dumps(["11.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(100000)]))' >"$tmp/list.json"
code=$(curl "${tls[@]}" "${auth[@]}" -o "$tmp/list.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary "@$tmp/list.json" "$https/config/ip-list")
check "the documented 100,000-host list ($(wc -c <"$tmp/list.json") bytes) passes nginx to POST /config/ip-list ($code $(head -c 120 "$tmp/list.out"))" [ "$code" = 200 ]
python3 -c 'import sys; sys.stdout.write("[" + "\"" + "a" * (8388608 + 10) + "\"]")' >"$tmp/huge.json"
code=$(curl "${tls[@]}" "${auth[@]}" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
	--data-binary "@$tmp/huge.json" "$https/config/ip-list")
check "a list over MONITOR_MAX_BODY is refused ($code)" [ "$code" = 413 ]

# The archive's esmond API: a bulk document over the general 16k passes
# nginx with an archive key, and the absolute URLs of the answers say https
# (X-Forwarded-Proto from nginx, a trusted proxy).
akey=$(cd "$tmp" && "$tmp/pingapi" archive key create nginx --data-dir "$tmp/data" 2>/dev/null | tail -n1)
code=$(curl "${tls[@]}" -o "$tmp/md.json" -w '%{http_code}' -H "Authorization: Token $akey" -H 'Content-Type: application/json' \
	--data '{"subject-type":"point-to-point","source":"10.1.1.1","destination":"10.1.1.2","measurement-agent":"10.1.1.1","tool-name":"bwctl/ping","event-types":[{"event-type":"histogram-rtt"}]}' \
	"$https/esmond/perfsonar/archive/")
mdkey=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("metadata-key",""))' "$tmp/md.json" 2>/dev/null || true)
check "esmond metadata registered through nginx with an archive key ($code)" [ "$code" = 201 ]
check "esmond answers carry https URLs behind nginx ($(head -c 300 "$tmp/md.json"))" \
	python3 -c 'import json,sys; sys.exit(not json.load(open(sys.argv[1]))["url"].startswith("https://"))' "$tmp/md.json"
python3 -c 'import json; print(json.dumps({"data": [{"ts": 1700000000 + i, "val": [{"event-type": "histogram-rtt", "val": {"%d.00" % b: 1 for b in range(200)}}]} for i in range(20)]}))' >"$tmp/bulk.json"
code=$(curl "${tls[@]}" -o "$tmp/bulk.out" -w '%{http_code}' -X PUT -H "Authorization: Token $akey" -H 'Content-Type: application/json' \
	--data-binary "@$tmp/bulk.json" "$https/esmond/perfsonar/archive/$mdkey/")
check "an esmond bulk PUT of $(wc -c <"$tmp/bulk.json") bytes passes nginx ($code $(head -c 120 "$tmp/bulk.out"))" [ "$code" = 201 ]
python3 -c 'import json; print(json.dumps({"data": [{"ts": 1700100000 + i, "val": [{"event-type": "histogram-rtt", "val": {"%d.00" % b: 1 for b in range(200)}}]} for i in range(20)]}))' >"$tmp/bulk2.json"
code=$(curl "${tls[@]}" -o "$tmp/bulk2.out" -w '%{http_code}' -X PUT -H "Authorization: Token $akey" -H 'Content-Type: application/json' \
	--data-binary "@$tmp/bulk2.json" "$https/perfsonar/archive/$mdkey/")
check "the same bulk PUT under /perfsonar/ (esmond without its script alias) passes nginx ($code $(head -c 120 "$tmp/bulk2.out"))" [ "$code" = 201 ]

# --- measurements through the proxy -----------------------------------------
code=$(curl "${tls[@]}" -o /dev/null -w '%{http_code}' "$https/pingapi/127.0.0.1?c=1")
check "no token: 401 through nginx ($code)" [ "$code" = 401 ]
body=$(curl "${tls[@]}" "${auth[@]}" -w '\n%{http_code}' "$https/pingapi/127.0.0.1?c=2")
check "token-authenticated GET /pingapi/127.0.0.1?c=2 measures 2 echoes ($(tr '\n' ' ' <<<"$body" | cut -c1-200))" \
	python3 -c 'import json,sys; b,c=sys.argv[1].rsplit("\n",1); d=json.loads(b); sys.exit(not(c=="200" and d["count_requested"]==2 and d["count_received"]==2 and d["packet_loss"]==0))' "$body"

code=$(curl "${tls[@]}" "${auth[@]}" -o "$tmp/post.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data '{"ip":"127.0.0.1","c":"1"}' "$https/pingapi")
check "POST /pingapi with the original's body ({\"ip\":...,\"c\":\"1\"}) through nginx ($code)" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not(sys.argv[2]=="200" and d["count_requested"]==1))' "$tmp/post.json" "$code"
code=$(curl "${tls[@]}" -o "$tmp/openapi.json" -w '%{http_code}' "$https/openapi.json")
check "the OpenAPI document is served through nginx ($code)" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not(sys.argv[2]=="200" and ("swagger" in d or "openapi" in d)))' "$tmp/openapi.json" "$code"
for page in docs redoc; do
	code=$(curl "${tls[@]}" -L -o /dev/null -w '%{http_code}' "$https/$page")
	check "/$page is served through nginx ($code)" [ "$code" = 200 ]
done

# Streaming: each line is stamped (bash's $EPOCHREALTIME, no fork) when it
# arrives at the client. Buffered by the proxy, all would arrive together at
# the end; streamed, the echoes of c=3 go out a second apart, so the first
# packet line and the summary arrive about 2 s apart.
# --compressed: like a browser, the client accepts gzip, which must not
# buffer the stream either. Over HTTP/2 (curl's default here) and HTTP/1.1.
for proto in --http2 --http1.1; do
	curl "${tls[@]}" "$proto" -N --compressed "${auth[@]}" -H 'Accept: application/x-ndjson' "$https/pingapi/127.0.0.1?c=3" |
		while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$tmp/stream.txt"
	lines=$(grep -c . "$tmp/stream.txt" || true)
	spread=$(awk '/"type":"packet"/ && !f {f=$1} /"type":"summary"/ {l=$1} END{if (f && l) printf "%.2f", l-f; else print 0}' "$tmp/stream.txt")
	check "streamed c=3 (${proto#--}) arrives line by line ($lines lines, first echo to summary ${spread}s)" \
		awk -v n="$lines" -v s="$spread" 'BEGIN{exit !(n >= 4 && s >= 1.5)}'
done

# The longest measurement (c=59) sends nothing for about a minute when not
# streamed (resolution up to 2 s, the last echo at 58 s, its reply deadline
# 1 s later), and the service itself allows 76 s (api.WriteTimeout). nginx
# must not cut earlier: every proxy_read_timeout in the effective
# configuration must be at least that.
check "proxy_read_timeout exceeds the longest measurement: >= 76 s ($(grep -o 'proxy_read_timeout [^;]*' "$tmp/nginx-T.txt" | tr '\n' ' '))" \
	python3 -c '
import re, sys
vals = re.findall(r"^\s*proxy_read_timeout\s+(\d+)(ms|s|m|h)?\s*;", open(sys.argv[1]).read(), re.M)
mult = {"ms": 0.001, "s": 1, "": 1, "m": 60, "h": 3600}
secs = [int(v) * mult[u] for v, u in vals]
sys.exit(not (secs and min(secs) >= 76))
' "$tmp/nginx-T.txt"

# X-Forwarded-For: a client on 127.0.0.2 forging the header; the service must
# log 127.0.0.2 (nginx sets the header, the service trusts nginx only).
code=$(curl "${tls[@]}" --interface 127.0.0.2 -o /dev/null -w '%{http_code}' \
	-H 'X-Forwarded-For: 198.51.100.7' "${auth[@]}" "$https/pingapi/127.0.0.1?c=1")
# The access log line is written after the response: poll for it, bounded.
for _ in $(seq 50); do grep -q 'client_ip=127.0.0.2' "$tmp/serve.log" && break; sleep 0.1; done
check "the client's address reaches the service via X-Forwarded-For (client_ip=127.0.0.2 logged, status $code)" \
	grep -q 'client_ip=127.0.0.2' "$tmp/serve.log"
check "a forged X-Forwarded-For is not believed" bash -c '! grep -q "198.51.100.7" "$1"' _ "$tmp/serve.log"

# Rate limit: 60 requests at once from a fresh address; beyond the burst
# nginx answers 429 itself.
reqs=()
for _ in $(seq 60); do reqs+=(-o /dev/null "$https/healthz"); done
codes=$(curl "${tls[@]}" --interface 127.0.0.3 --parallel --parallel-max 60 -w '%{http_code}\n' "${reqs[@]}" 2>/dev/null | sort | uniq -c | tr '\n' ' ')
n429=$(awk '{for(i=1;i<=NF;i+=2) if($(i+1)=="429") print $i}' <<<"$codes")
n200=$(awk '{for(i=1;i<=NF;i+=2) if($(i+1)=="200") print $i}' <<<"$codes")
check "a burst of 60 requests over the rate limit is refused by nginx with 429 (counts: $codes)" \
	[ "${n429:-0}" -ge 1 -a "${n200:-0}" -ge 1 ]
check "the service never saw the refused requests" bash -c '! grep -q "status=429" "$1"' _ "$tmp/serve.log"

finish test-nginx
