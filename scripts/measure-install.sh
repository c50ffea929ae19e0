#!/usr/bin/env bash
# Install time and size of polyplug in a fresh application, per dependency:
#   scripts/measure-install.sh PACKAGE_DIR [ENV...]     e.g. scripts/measure-install.sh . CC=false CXX=false
# Packs PACKAGE_DIR (no scripts: dist/ must be built), installs the tarball into a new folder with
# `npm install` (npm's cache as it is), prints the wall time, node_modules' size and the largest packages.
set -euo pipefail
pkg=$(cd "$1" && pwd); shift
work=$(mktemp -d /tmp/polyplug-measure.XXXXXX)
tarball=$(cd "$pkg" && npm pack --ignore-scripts --silent --pack-destination "$work" 2>/dev/null | tail -1)
mkdir "$work/app" && cd "$work/app" && echo '{"name":"app","version":"1.0.0","private":true}' > package.json
start=$(date +%s.%N)
env "$@" npm install --no-audit --no-fund "$work/$tarball" > "$work/install.log" 2>&1 || { echo "npm install failed:"; tail -20 "$work/install.log"; }
end=$(date +%s.%N)
echo "tarball: $(du -k "$work/$tarball" | cut -f1) KiB; install: $(echo "$end - $start" | bc) s; node_modules: $(du -sk node_modules | cut -f1) KiB in $(ls node_modules | wc -l) top-level entries ($(find node_modules -name package.json -not -path '*/test/*' | wc -l) package.json files)"
du -sk node_modules/* node_modules/@*/* 2>/dev/null | sort -rn | head -12
grep -i "warn" "$work/install.log" | sort | uniq -c | head -5
rm -rf "$work"
