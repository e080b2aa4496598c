#!/usr/bin/env bash
# Puts promtool (Prometheus' rule checker) at .tools/promtool without installing or running a
# Prometheus server: downloads Debian's `prometheus` package, unpacks it into a temporary
# directory and keeps only usr/bin/promtool. Idempotent: does nothing when .tools/promtool
# already runs. Needs apt-get and dpkg (Debian/Ubuntu); no root needed once the package lists
# exist (apt-get update runs only when the package is unknown).
set -euo pipefail
cd "$(dirname "$0")/.."

dest=.tools/promtool
if [ -x "$dest" ] && "$dest" --version >/dev/null 2>&1; then
  exit 0
fi

if ! apt-cache show prometheus >/dev/null 2>&1; then
  apt-get update -qq
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt warns that root downloads unsandboxed into a private temp dir: harmless, kept off the log.
(cd "$tmp" && apt-get download -qq prometheus 2>&1 | { grep -v unsandboxed || true; })
deb=$(ls "$tmp"/prometheus_*.deb)
dpkg -x "$deb" "$tmp/root"
mkdir -p .tools
install -m 0755 "$tmp/root/usr/bin/promtool" "$dest.tmp"
mv "$dest.tmp" "$dest"
"$dest" --version 2>&1 | head -n1
