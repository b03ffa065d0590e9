#!/bin/sh
# Builds the konnector package a stock Cozy stack runs: the folder OUT/<slug>/ holding the
# manifest, the Node.js entry point (index.js, package.json), the icon and the connector as a
# static linux/amd64 binary; and its tarball OUT/<slug>-<version>.tar.gz, with those files at its
# root, as the apps registry and the stack's installer read it.
#
# Usage: connector/cozy/package.sh OUT    (GO names the go command; Node.js reads the manifest)
set -eu
out=${1:?usage: package.sh OUT}
src=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$src/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

manifest() {
	node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.stdout.write(String(m[process.argv[2]]))' \
		"$root/connector/manifest.konnector" "$1"
}
slug=$(manifest slug)
version=$(manifest version)
dir="$out/$slug"

rm -rf "$dir"
mkdir -p "$dir"
(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 "${GO:-go}" build -trimpath -ldflags='-s -w' -o "$dir/connector" ./connector)
cp "$root/connector/manifest.konnector" "$src/index.js" "$src/package.json" "$dir/"
cp "$root/app/icon.svg" "$dir/icon.svg"
tar -C "$dir" -czf "$out/$slug-$version.tar.gz" manifest.konnector package.json index.js icon.svg connector
echo "$dir"
