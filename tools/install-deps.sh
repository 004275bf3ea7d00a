#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages emgmm needs to build, test
# and benchmark (run as root).  Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(build-essential meson ninja-build pkg-config python3
      libopenblas-openmp-dev liblapacke-dev libjansson-dev libcmocka-dev
      openmpi-bin libopenmpi-dev valgrind
      libhdf5-dev python3-numpy python3-h5py)  # HDF5 files (issue 22); h5py makes and checks test files
if [ "${EMGMM_WITH_PEERS:-0}" = 1 ]; then
  pkgs+=(python3-sklearn libarmadillo-dev g++)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
