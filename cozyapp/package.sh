#!/bin/sh
# Builds the app bundle a Cozy stack installs (`cozy-stack apps install coachco2-local
# file://OUT/coachco2-local`): the folder OUT/<slug>/ holding manifest.webapp (the repository's,
# plus the screens' doctype and the service), index.html (a template the stack fills),
# the web app's stylesheet and icon, the page's script, and the service: one Node.js file
# carrying the engine, a static linux/amd64 binary, brotli-compressed in base64 (the stack copies only the
# service's file to run it); and the tarball OUT/<slug>-<version>.tar.gz with those files at its
# root. The engine is built with the tag novaultfile: it reaches the vault only through the
# stack, and leaving the embedded driver and SQLite out takes a third off the bundle.
#
# Usage: cozyapp/package.sh OUT    (GO names the go command; Node.js writes the manifest)
set -eu
out=${1:?usage: package.sh OUT}
src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

manifest() {
	node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(m[process.argv[2]]))' \
		"$root/manifest.webapp" "$1"
}
slug=$(manifest slug)
version=$(manifest version)
dir="$out/$slug"

rm -rf "$dir"
mkdir -p "$dir/services" "$dir/app"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "${GO:-go}" build -tags novaultfile -trimpath -ldflags='-s -w' -o "$work/coach" ./cozyapp/service)
# Brotli (Node's own zlib, which the service decodes with) at quality 7 and a 16 MiB window: 12%
# smaller than gzip -9 for about as long; the qualities above take minutes for little more.
node -e 'const fs = require("fs"); const zlib = require("zlib"); const [tmpl, bin, out] = process.argv.slice(1);
	const src = fs.readFileSync(tmpl, "utf8");
	if (!src.includes("@ENGINE@")) throw new Error(tmpl + " has no @ENGINE@");
	const engine = fs.readFileSync(bin);
	const br = zlib.brotliCompressSync(engine, { params: {
		[zlib.constants.BROTLI_PARAM_QUALITY]: 7,
		[zlib.constants.BROTLI_PARAM_LGWIN]: 24,
		[zlib.constants.BROTLI_PARAM_SIZE_HINT]: engine.length } });
	fs.writeFileSync(out, src.replace("@ENGINE@", br.toString("base64")))' \
	"$src/services/coach.js" "$work/coach" "$dir/services/coach.js"
node "$src/manifest.js" "$root/manifest.webapp" > "$dir/manifest.webapp"
cp "$src/static/index.html" "$src/static/"*.js "$src/static/cozy.css" "$dir/"
cp "$root/pkg/webapp/static/app.css" "$dir/app.css"
cp "$root/app/icon.svg" "$dir/app/icon.svg"
tar -C "$dir" -czf "$out/$slug-$version.tar.gz" .
echo "$dir"
