#!/usr/bin/env bash
# Builds the web UI into web/dist (served by `soma serve` at /): installs the
# exact npm packages of web/package-lock.json (`npm ci`), then `npm run build`
# (types generated from web/openapi.json by openapi-typescript, type check,
# Vite bundle).
#   scripts/web.sh                 build
#   scripts/web.sh --refresh-api   first replace web/openapi.json with the
#                                  document of build/bin/soma (after routes change)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "web: node and npm are needed (scripts/setup.sh installs them)" >&2
  exit 1
fi
if [[ "${1:-}" == "--refresh-api" ]]; then
  soma="$root/build/bin/soma"
  [[ -x "$soma" ]] || { echo "web: build soma first (scripts/build.sh)" >&2; exit 1; }
  tmp=$(mktemp -d /tmp/soma-openapi.XXXXXX)
  "$soma" serve --data "$tmp/data" --port 0 --no-web --no-log >"$tmp/out" 2>&1 &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
  for _ in $(seq 1 100); do
    url=$(sed -n 's/^soma: listening on //p' "$tmp/out")
    [[ -n "$url" ]] && break
    sleep 0.1
  done
  [[ -n "$url" ]] || { cat "$tmp/out" >&2; echo "web: soma serve did not start" >&2; exit 1; }
  curl -sf "$url/v1/openapi.json" >"$root/web/openapi.json"
  echo "web: web/openapi.json refreshed from $url"
fi
cd web
npm ci --no-audit --no-fund --loglevel=error
npm run build
echo "web: built into $root/web/dist"
