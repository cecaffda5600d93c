#!/usr/bin/env bash
# Checks docker-compose.yml with Debian's docker-compose (no Docker engine
# needed): `docker-compose config` accepts it with .env.example as .env, and
# the rendered file has what docs/DEPLOY.md promises.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib.sh"
need docker-compose python3

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$repo/docker-compose.yml" "$tmp/"
cp "$repo/.env.example" "$tmp/.env"
mkdir -p "$tmp/nginx"
cp -r "$repo/nginx/templates" "$tmp/nginx/"

if (cd "$tmp" && docker-compose config >"$tmp/rendered.yml" 2>"$tmp/config.err"); then
	pass "docker-compose config accepts docker-compose.yml with .env.example as .env"
else
	fail "docker-compose config: $(cat "$tmp/config.err")"
	finish test-compose
fi

# Each line of the checker is "PASS ..." or "FAIL ...".
python3 - "$tmp/rendered.yml" "$repo" <<'PY' | tee "$tmp/checks"
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
repo = sys.argv[2]
svc = doc["services"]
api, nginx, certbot = svc["api"], svc["nginx"], svc["certbot"]

def check(name, ok):
    print(("PASS " if ok else "FAIL ") + name)

def ports(s):
    out = set()
    for p in s.get("ports", []):
        if isinstance(p, dict):
            out.add((str(p.get("published")), str(p.get("target"))))
        else:
            pub, _, tgt = str(p).rpartition(":")
            out.add((pub.split(":")[-1], tgt))
    return out

check("api is not published on the host (no ports)", not api.get("ports"))
check("api exposes 8080 to the compose network", "8080" in [str(e) for e in api.get("expose", [])])
check("api listens on :8080 in the container", api["environment"].get("LISTEN_ADDR") == ":8080")
check("api sysctl net.ipv4.ping_group_range=0 2147483647",
      str(api.get("sysctls", {}).get("net.ipv4.ping_group_range")) == "0 2147483647")
check("api drops all capabilities", api.get("cap_drop") == ["ALL"])
check("api healthcheck runs the binary itself", api.get("healthcheck", {}).get("test", [])[1:3] == ["/pingapi", "health"])
check("api data directory is a volume", any(str(v).endswith(":/data:rw") or str(v).endswith(":/data") for v in api.get("volumes", [])))
subnet = doc["networks"]["pingapi"]["ipam"]["config"][0]["subnet"]
check("api trusts X-Forwarded-For from nginx's network only (%s)" % subnet,
      api["environment"].get("TRUSTED_PROXIES") == subnet)
check("nginx publishes 80 and 443", {("80", "80"), ("443", "443")} <= ports(nginx))
check("nginx waits for a healthy api",
      nginx.get("depends_on", {}).get("api", {}).get("condition") == "service_healthy")
cmd = " ".join(nginx.get("command", []))
check("nginx reloads every 24 h and still runs the template entrypoint",
      "sleep 24h" in cmd and "nginx -s reload" in cmd and "docker-entrypoint.sh nginx" in cmd)
ent = " ".join(certbot.get("entrypoint", []))
check("certbot renews every 12 h", "certbot renew" in ent and "sleep 12h" in ent)
check("restart policies on every service", all(s.get("restart") in ("unless-stopped", "always") for s in svc.values()))
vols = lambda s: [str(v) for v in s.get("volumes", [])]
check("certificates shared by nginx and certbot",
      any(v.endswith(":/etc/letsencrypt:ro") for v in vols(nginx)) and any(":/etc/letsencrypt" in v for v in vols(certbot)))
check("ACME webroot shared by nginx and certbot",
      any(":/var/www/certbot" in v for v in vols(nginx)) and any(":/var/www/certbot" in v for v in vols(certbot)))
check("nginx mounts the repository's templates", any(v.endswith("/nginx/templates:/etc/nginx/templates:ro") for v in vols(nginx)))
tmpl = open(repo + "/nginx/templates/default.conf.template").read()
used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", tmpl))
missing = sorted(used - set(nginx.get("environment", {})))
check("nginx's environment sets every template variable (%s)" % ", ".join(sorted(used)), not missing)
check("nginx upstream is api:8080", nginx["environment"].get("API_UPSTREAM") == "api:8080")
compose = open(repo + "/docker-compose.yml").read()
env = open(repo + "/.env.example").read()
cvars = sorted(set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", compose)))
absent = [v for v in cvars if not re.search(r"^%s=" % v, env, re.M)]
check(".env.example lists every variable docker-compose.yml reads" + (" (missing: %s)" % absent if absent else ""), not absent)
PY
grep -q '^FAIL' "$tmp/checks" && fails=$((fails + $(grep -c '^FAIL' "$tmp/checks")))

# DOMAIN is required: an .env without it must be refused, not run with an
# empty server_name.
sed -i 's/^DOMAIN=.*/DOMAIN=/' "$tmp/.env"
if (cd "$tmp" && docker-compose config >/dev/null 2>&1); then
	fail "docker-compose config refuses an empty DOMAIN"
else
	pass "docker-compose config refuses an empty DOMAIN"
fi
finish test-compose
