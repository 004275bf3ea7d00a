#!/usr/bin/env bash
# install-deps.sh — installs the Debian 12 packages emgmm needs to build, test
# and benchmark (run as root).  Safe to run again.  This file is the one list:
# tools/check-deps.py (a test) fails when a test, benchmark or tool needs a
# package that is not named here.
#   build:    compile the library, the tool and the test programs
#   test:     everything `bash tools/run-tests.sh` runs or imports
#   peers:    benchmark peers (EMGMM_WITH_PEERS=1): Armadillo and its compiler
#   fixtures: re-making the reference fixtures (EMGMM_WITH_FIXTURES=1): R's mclust
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
build=(build-essential meson ninja-build pkg-config
       libopenblas-openmp-dev liblapacke-dev libjansson-dev libcmocka-dev
       openmpi-bin libopenmpi-dev
       python3 python3-minimal python3-dev python3-numpy   # python3-minimal owns /usr/bin/python3
       libhdf5-dev                                           # HDF5 files (issue 22; meson -Dhdf5=auto)
       libhdf5-openmpi-dev)                                  # parallel HDF5: MPI-IO reads under mpirun
test=(python3-numpy python3-pytest python3-sklearn python3-scipy python3-threadpoolctl python3-matplotlib
      valgrind git
      binutils                                              # nm: tools/check-layers.py, issue 20
      python3-h5py python3-h5py-serial                      # tests/hdf5 makes and checks .h5 files
      libblas-dev liblapack-dev)                            # tools/check-generic-blas.sh: reference BLAS
peers=(libarmadillo-dev g++ linux-perf)
fixtures=(r-base-core r-cran-mclust)
pkgs=("${build[@]}" "${test[@]}")
if [ "${EMGMM_WITH_PEERS:-0}" = 1 ]; then pkgs+=("${peers[@]}"); fi
if [ "${EMGMM_WITH_FIXTURES:-0}" = 1 ]; then pkgs+=("${fixtures[@]}"); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
