#!/usr/bin/env bash
# Installs the Debian 12 packages Soma needs to build, test and benchmark.
# Idempotent: does nothing when everything is already installed.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh --fuzz   also clang/libFuzzer for the fuzz targets
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libsbml5-dev libsundials-dev libsuitesparse-dev libglpk-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libeigen3-dev libboost-context1.74-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libzip-dev libxml2-dev zip libbz2-dev
  python3 python3-scipy python3-numpy python3-sbml5
  libsqlite3-dev libpq-dev libssl-dev postgresql
  libcpp-httplib-dev libbrotli-dev zlib1g-dev openssl sqlite3 curl wrk
  libceres-dev libgoogle-glog-dev libopenmpi-dev openmpi-bin ccache libyaml-cpp-dev
  llvm-14-dev
  chromium
)
# The web UI (web/) builds with node and npm; Debian's are used only when no
# node is on PATH already. Its end-to-end test drives Debian's chromium.
if ! command -v node >/dev/null; then packages+=(nodejs npm); fi
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang-14 libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
