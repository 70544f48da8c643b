#!/usr/bin/env bash
# Builds Soma and runs every test suite: unit tests, the SBML Test Suite
# (from ../shared when present) and the CLI contract tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure --parallel "$(nproc)" --timeout 600
