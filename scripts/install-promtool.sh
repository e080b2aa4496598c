#!/usr/bin/env bash
# Puts promtool (Prometheus' rule checker) at .tools/promtool without installing or running a
# Prometheus server: downloads Debian's `prometheus` package, unpacks it into a temporary
# directory and keeps only usr/bin/promtool. `npm test` runs it first (pretest). Idempotent: does
# nothing when a promtool already runs where the tests look (testing/promtool.ts: PROMTOOL if
# set, else .tools/promtool, else PATH). Needs apt-get and dpkg (Debian/Ubuntu); no root needed
# once the package lists exist (apt-get update runs only when the package is unknown).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "install-promtool: $*" >&2; exit 1; }

if [ -n "${PROMTOOL:-}" ]; then
  "$PROMTOOL" --version >/dev/null 2>&1 || die "PROMTOOL=$PROMTOOL does not run"
  exit 0
fi
dest=.tools/promtool
if [ -x "$dest" ] && "$dest" --version >/dev/null 2>&1; then
  exit 0
fi
if command -v promtool >/dev/null 2>&1 && promtool --version >/dev/null 2>&1; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 ||
  die "no promtool and no apt-get/dpkg to fetch one: install Prometheus' promtool on PATH or set PROMTOOL"
echo "install-promtool: fetching promtool (Debian package prometheus) into $dest" >&2

if ! apt-cache show prometheus >/dev/null 2>&1; then
  apt-get update -qq || die "apt-get update failed (as root: apt-get update; or set PROMTOOL)"
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
