# mpi.sh — the tool under mpirun, for the shell tests (source after checks.sh):
#   mpi_require EMGMM MPIRUN   exit 77 (meson's SKIP) with the reason when MPIRUN is empty or
#                              not found, or EMGMM was built without MPI; one OpenMP thread
#   run NP CMD...              CMD on NP ranks (as root too, more ranks than cores allowed);
#                              with MPI_NO_LEAK_CHECK=1 under ASan without leak detection
#                              (Open MPI's own allocations outlive MPI_Finalize: not ours)
#   mpi_data EMGMM             the MPI tests' data: truth.json (3 full components in 3-D),
#                              init.json (a rough start, so that EM moves) and data.npy
#                              (3001 rows drawn from truth.json with seed 11)
mpi_require() {
  if [ -z "$2" ] || ! command -v "$2" >/dev/null 2>&1; then
    echo "skipped: no mpirun or mpiexec (tools/install-deps.sh installs openmpi-bin)"
    exit 77
  fi
  if ! "$1" info | grep -q '^mpi: on'; then
    echo "skipped: emgmm built without MPI (meson found no MPI: tools/install-deps.sh installs libopenmpi-dev)"
    exit 77
  fi
  MPIRUN=$2
  export OMP_NUM_THREADS=1
}

run() {
  if [ "${MPI_NO_LEAK_CHECK:-0}" = 1 ]; then
    env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
      "$MPIRUN" --allow-run-as-root --oversubscribe -np "$@"
  else
    "$MPIRUN" --allow-run-as-root --oversubscribe -np "$@"
  fi
}

mpi_data() {
  cat >truth.json <<'J'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 3,
 "n_features": 3, "weights": [0.3, 0.45, 0.25],
 "means": [[-4.1, 2.385, 0.5], [3.7, -1.25, 1.125], [0.25, 5.5, -3.3]],
 "covariances": [[[1.21, 0.33, 0.1], [0.33, 0.64, 0.0], [0.1, 0.0, 0.9]],
                 [[0.49, -0.07, 0.0], [-0.07, 1.44, 0.2], [0.0, 0.2, 1.1]],
                 [[2.1, 0.0, 0.3], [0.0, 0.8, 0.0], [0.3, 0.0, 1.7]]]}
J
  # a rough start, so that EM moves
  cat >init.json <<'J'
{"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 3,
 "n_features": 3, "weights": [0.34, 0.33, 0.33],
 "means": [[-3.0, 1.5, 0.0], [3.0, -0.5, 0.5], [0.0, 4.0, -2.0]],
 "covariances": [[[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]],
                 [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]],
                 [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]]}
J
  "$1" sample truth.json -n 3001 --seed 11 -o data.npy || { echo "cannot sample"; exit 1; }
}
