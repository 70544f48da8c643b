#!/usr/bin/env bash
# HTTP load test of `soma serve` with wrk (Debian package `wrk`).
#
#   bench/load/run.sh [DURATION_S] [CONNECTIONS]      (defaults 10, 16)
#
# Starts a server on a fresh SQLite data folder (rate limit off, request log
# off), fills it with public and private resources through the API, then
# runs wrk against: search (anonymous and authenticated), a resource GET
# (anonymous, authenticated on a private resource, and a conditional GET
# answered 304), and writes requests/s and latency percentiles, with the
# machine and date, to bench/load/RESULTS.md. Needs build/bin/soma.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
duration=${1:-10}
connections=${2:-16}
threads=2
resources=${SOMA_LOAD_RESOURCES:-500}
soma=$root/build/bin/soma
[[ -x $soma ]] || { echo "load: build first (scripts/build.sh): no $soma" >&2; exit 1; }
command -v wrk >/dev/null || { echo "load: install wrk (scripts/setup.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/soma-load.XXXXXX)
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$soma" serve --data "$work/data" --port 0 --rate-limit 0 --no-log --threads 32 >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^soma: listening on //p' "$work/out")
[[ -n "$url" ]] || { cat "$work/out" "$work/err" >&2; exit 1; }
token=$(cat "$work/data/admin-token")
echo "load: server at $url; seeding $resources resources" >&2

# Seed through the API: public and private models, each with one version.
python3 - "$url" "$token" "$resources" <<'PY'
import base64, json, sys, urllib.request
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
organs = ["endocrine", "cardiovascular", "renal", "hepatic", "respiratory"]
def call(method, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
for i in range(n):
    rid = "load-%05d" % i
    vis = "private" if i % 5 == 0 else "public"
    call("POST", "/v1/resources", {"id": rid, "visibility": vis, "metadata": {
        "title": "Glucose insulin model %d" % i, "license": "CC-BY-4.0",
        "description": "Synthetic resource %d for the load test" % i,
        "organ_systems": [organs[i % len(organs)]], "keywords": ["load", "glucose"]}})
    csv = "t,G\n" + "".join("%d,%d\n" % (t, 90 + (t * i) % 40) for t in range(50))
    call("POST", "/v1/resources/%s/versions" % rid, {"message": "load data",
         "files": [{"path": "obs.csv", "content_base64": base64.b64encode(csv.encode()).decode()}]})
PY

etag=$(curl -s -D - -o /dev/null "$url/v1/resources/bergman-minimal" | tr -d '\r' | sed -n 's/^ETag: //Ip')

declare -a names rps p50 p75 p90 p99 codes
run() {  # name, path, extra wrk args...
  local name=$1 path=$2
  shift 2
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@" "$url$path")
  names+=("$name")
  rps+=("$(awk '/^Requests\/sec/ {print $2}' <<<"$out")")
  p50+=("$(awk '$1=="50%" {print $2}' <<<"$out")")
  p75+=("$(awk '$1=="75%" {print $2}' <<<"$out")")
  p90+=("$(awk '$1=="90%" {print $2}' <<<"$out")")
  p99+=("$(awk '$1=="99%" {print $2}' <<<"$out")")
  local non2xx
  non2xx=$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")
  codes+=("${non2xx:-0}")
  echo "load: $name: $(awk '/^Requests\/sec/ {print $2}' <<<"$out") req/s" >&2
}
auth=(-H "Authorization: Bearer $token")
run "search, anonymous (q=glucose)" "/v1/search?q=glucose"
run "search, authenticated (q=glucose, organ=renal)" "/v1/search?q=glucose&organ=renal" "${auth[@]}"
run "resource GET, anonymous (public)" "/v1/resources/bergman-minimal"
run "resource GET, authenticated (private)" "/v1/resources/load-00000" "${auth[@]}"
run "resource GET, If-None-Match -> 304" "/v1/resources/bergman-minimal" -H "If-None-Match: $etag"
run "file GET, anonymous (bytes, hash verified)" "/v1/resources/load-00001/versions/latest/files/obs.csv"

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
mem=$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)
{
  echo "# HTTP load test results"
  echo
  echo "Written by \`bench/load/run.sh\` (wrk against a live \`soma serve\`); rerun it to refresh."
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $cpu, $(nproc) cores visible, $mem RAM, $(uname -sr)"
  dirty=$(git -C "$root" diff --quiet HEAD -- src && echo "" || echo " plus uncommitted changes in src/")
  echo "- soma: $(git -C "$root" rev-parse --short HEAD)${dirty} ($(git -C "$root" log -1 --format=%cs)), RelWithDebInfo build"
  echo "- server: SQLite backend, 32 worker threads, rate limit off, request log off, $resources seeded resources (1 in 5 private) plus the bundled models"
  echo "- load: wrk, $threads threads, $connections connections, ${duration} s per row, keep-alive; wrk runs on the same machine as the server"
  echo
  echo "| workload | requests/s | p50 | p75 | p90 | p99 | non-2xx/3xx |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for i in "${!names[@]}"; do
    echo "| ${names[$i]} | ${rps[$i]} | ${p50[$i]} | ${p75[$i]} | ${p90[$i]} | ${p99[$i]} | ${codes[$i]} |"
  done
  echo
  echo "Authenticated rows include token verification (SHA-256 lookup) on every request;"
  echo "reads of the private resource are also written to the audit log (one insert each)."
} >"$root/bench/load/RESULTS.md"
echo "load: wrote bench/load/RESULTS.md" >&2
