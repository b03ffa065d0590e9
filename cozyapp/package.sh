#!/bin/sh
# Builds the app bundle a Cozy stack installs (`cozy-stack apps install coachco2-local
# file://OUT/coachco2-local`): the folder OUT/<slug>/ holding manifest.webapp (the repository's,
# plus the screens' doctype and the service), index.html (a template the stack fills),
# the web app's stylesheet and icon, the page's script, and the service: its Node.js entry
# point and the engine as a static linux/amd64 binary; and the tarball OUT/<slug>-<version>.tar.gz
# with those files at its root.
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
(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "${GO:-go}" build -trimpath -ldflags='-s -w' -o "$dir/services/coach" ./cozyapp/service)
node "$src/manifest.js" "$root/manifest.webapp" > "$dir/manifest.webapp"
cp "$src/static/index.html" "$src/static/cozy.js" "$src/static/cozy.css" "$dir/"
cp "$root/pkg/webapp/static/app.css" "$dir/app.css"
cp "$root/app/icon.svg" "$dir/app/icon.svg"
cp "$src/services/coach.js" "$dir/services/coach.js"
tar -C "$dir" -czf "$out/$slug-$version.tar.gz" .
echo "$dir"
