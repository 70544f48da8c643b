#!/usr/bin/env bash
# Runs every case of the SBML Test Suite in ../shared and writes the results
# table to docs/sbml-test-suite.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build/bin/sbml_suite_report ../shared/sbml-test-suite/semantic docs/sbml-test-suite.md
