#!/usr/bin/env bash
# The main job: builds Soma, then runs it on its bundled content with the
# embedded defaults: every bundled model is checked and simulated, and the
# time course is printed. Pass a model file to run that one instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
soma=build/bin/soma
models=("$@")
if ((${#models[@]} == 0)); then models=(models/*.xml); fi
for m in "${models[@]}"; do
  echo "== $m"
  "$soma" check "$m" | tail -n 1
  "$soma" simulate "$m" --start 0 --end "${SOMA_END:-100}" --steps "${SOMA_STEPS:-20}" --summary
done
