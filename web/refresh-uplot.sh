#!/usr/bin/env bash
# Refreshes the vendored uPlot from npm: downloads the package with npm's own
# client, copies the minified IIFE bundle, its stylesheet and its licence
# into web/static/vendor/, and rewrites the version and checksums in
# web/README.md. Usage: web/refresh-uplot.sh [VERSION] (default: the
# version recorded in web/README.md; "latest" for npm's newest).
# Then run: go test ./web ./api -run 'Vendored|NoInline|NoInnerHTML|Dashboard'
set -euo pipefail
cd "$(dirname "$0")"
current=$(sed -n 's/^| `uPlot.iife.min.js` | npm `uplot@\([^`]*\)`.*/\1/p' README.md)
version=${1:-$current}
if [ "$version" = latest ]; then
	version=$(npm view uplot version)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "uplot@$version" >/dev/null && tar xzf "uplot-$version.tgz")
license=$(cd "$tmp/package" && node -p 'require("./package.json").license')
if [ "$license" != MIT ]; then
	echo "refresh-uplot: uplot@$version is licensed $license, not MIT: review before vendoring" >&2
	exit 1
fi
cp "$tmp/package/dist/uPlot.iife.min.js" "$tmp/package/dist/uPlot.min.css" static/vendor/
cp "$tmp/package/LICENSE" static/vendor/uPlot.LICENSE
sum() { sha256sum "static/vendor/$1" | cut -d' ' -f1; }
sed -i \
	-e "s/^| \`uPlot.iife.min.js\` | npm \`uplot@[^\`]*\`\(.*\)| \`[0-9a-f]*\` |\$/| \`uPlot.iife.min.js\` | npm \`uplot@$version\`\1| \`$(sum uPlot.iife.min.js)\` |/" \
	-e "s/^| \`uPlot.min.css\` | npm \`uplot@[^\`]*\`\(.*\)| \`[0-9a-f]*\` |\$/| \`uPlot.min.css\` | npm \`uplot@$version\`\1| \`$(sum uPlot.min.css)\` |/" \
	-e "s/^| \`uPlot.LICENSE\` | npm \`uplot@[^\`]*\`\(.*\)| \`[0-9a-f]*\` |\$/| \`uPlot.LICENSE\` | npm \`uplot@$version\`\1| \`$(sum uPlot.LICENSE)\` |/" \
	README.md
echo "refresh-uplot: uplot@$version ($license) vendored; now run go test ./web ./api -run 'Vendored|NoInline|NoInnerHTML|Dashboard'"
