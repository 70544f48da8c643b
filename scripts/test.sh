#!/usr/bin/env bash
# Builds Soma and its web UI and runs every test suite: unit tests, the SBML
# Test Suite (from ../shared when present), the CLI contract tests and the
# web UI's tests (tests/web: node unit tests, end-to-end in headless Chromium).
#
# Database tests run on SQLite and on PostgreSQL. For the latter this script
# starts a throwaway server (scripts/postgres.sh) and exports its URL as
# SOMA_TEST_POSTGRES_URL; it fails if the server cannot be started, so
# PostgreSQL is never skipped quietly. To use a server of your own instead,
# set SOMA_TEST_POSTGRES_URL before running (a role allowed to CREATE DATABASE).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/build.sh
# The web UI's end-to-end test (tests/web) runs against web/dist.
scripts/web.sh

if [[ -z "${SOMA_TEST_POSTGRES_URL:-}" ]]; then
  pg_dir=$(mktemp -d /tmp/soma-pg.XXXXXX)
  cleanup() {
    "$root/scripts/postgres.sh" stop "$pg_dir" || echo "test: could not stop the PostgreSQL server in $pg_dir" >&2
    rm -rf "$pg_dir"
  }
  trap cleanup EXIT
  if ! SOMA_TEST_POSTGRES_URL=$("$root/scripts/postgres.sh" start "$pg_dir"); then
    echo "test: FAILED to start PostgreSQL for the database tests (see above)" >&2
    exit 1
  fi
  export SOMA_TEST_POSTGRES_URL
  echo "test: PostgreSQL for tests at $SOMA_TEST_POSTGRES_URL"
fi

# Machine code the tests compile is cached in the build tree, not in the
# user's ~/.cache/soma (src/expr/jit.h).
export SOMA_CACHE_DIR="${SOMA_CACHE_DIR:-$root/build/cache}"

cd build
ctest --output-on-failure --parallel "$(nproc)" --timeout 600
