#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages emgmm needs to build, test
# and benchmark (run as root).  Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential meson ninja-build pkg-config python3
      libopenblas-openmp-dev liblapacke-dev libjansson-dev libcmocka-dev
      openmpi-bin libopenmpi-dev valgrind)
if [ "${EMGMM_WITH_PEERS:-0}" = 1 ]; then
  pkgs+=(python3-sklearn libarmadillo-dev g++)
fi
# fixtures group (issue 19): R's mclust regenerates tests/fixtures/mclust with
# tests/fixtures/make_mclust_fixtures.R and runs the mclust benchmark
# (bench/mclust_bench.R); the tests read the committed fixtures and need no R.
if [ "${EMGMM_WITH_FIXTURES:-0}" = 1 ] || [ "${EMGMM_WITH_PEERS:-0}" = 1 ]; then
  pkgs+=(r-base-core r-cran-mclust)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
