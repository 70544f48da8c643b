#!/usr/bin/env bash
# The main job: builds Soma and its web UI, checks and simulates every bundled
# model, runs the bundled therapy comparison, then starts the platform server
# (API under /v1, the web UI at /) with its
# embedded defaults (./soma-data, SQLite, 127.0.0.1:8080; bundled models
# published on first start; it prints how to sign in). Ctrl-C stops it.
#   scripts/run.sh                 everything above
#   scripts/run.sh MODEL.xml ...   only check and simulate the given models
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
soma=build/bin/soma
if (($# == 0)); then
  echo "== building the web UI (web/dist)"
  scripts/web.sh
fi
models=("$@")
if ((${#models[@]} == 0)); then models=(models/*.xml); fi
for m in "${models[@]}"; do
  echo "== $m"
  "$soma" check "$m" | tail -n 1
  "$soma" simulate "$m" --start 0 --end "${SOMA_END:-100}" --steps "${SOMA_STEPS:-20}" --summary >/dev/null
done
if (($# > 0)); then exit 0; fi
echo "== therapy comparison on the type 1 diabetes model (scenarios/)"
"$soma" scenario compare scenarios/t1d-standard-day.json scenarios/t1d-reduced-bolus.json \
  --model models/t1d-uva-padova.xml
# Demo patients (data/demo-patients: FHIR bundles generated from the virtual
# population) become personalised twins in the server's data folder: the
# bundle's CGM is assimilated on creation, then a MAP fit with intervals.
data_dir=${SOMA_DATA:-soma-data}
echo "== demo patient twins in $data_dir (data/demo-patients)"
for bundle in data/demo-patients/demo-patient-[0-9].json; do
  id=$(basename "$bundle" .json)
  if "$soma" twin show "$id" --data "$data_dir" >/dev/null 2>&1; then
    echo "$id: already there"
    continue
  fi
  "$soma" twin create --data "$data_dir" --id "$id" --definition "data/demo-patients/$id.twin.json" --bundle "$bundle"
  "$soma" twin fit "$id" --data "$data_dir" >/dev/null
  "$soma" twin show "$id" --data "$data_dir" | sed -n '3,4p'
done
echo "== starting the server (Ctrl-C to stop)"
echo "== web UI: http://127.0.0.1:8080/ (with the default address; the server prints its URL below)"
exec "$soma" serve --data "$data_dir" ${SOMA_SERVE_ARGS:-}
