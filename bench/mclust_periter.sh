#!/usr/bin/env bash
# mclust_periter.sh BUILD DIR [K=9] [iters=3] [repeats=3] — the per-iteration cost of each of
# mclust's fourteen structures relative to VVV's (issue 19's goal: within 1.5x), on the data
# and partitions of bench/mclust_data.R in DIR, one thread, reg_covar 0, the default
# inner_tol.  Two measures:
#   instructions: callgrind counting only inside emgmm_fit_iterate (ITERS iterations after an
#     M-step from the partition), divided by ITERS — repeatable under load;
#   seconds: bench/mclust_periter's timed loop, REPEATS runs with the models interleaved
#     (model order rotated every repeat), the median.
# Prints a markdown table.
set -eu
B=$1
DIR=$2
K=${3:-9}
IT=${4:-3}
REP=${5:-3}
EXE=$B/bench/mclust_periter
MODELS=(EII VII EEI VEI EVI VVI EEE VEE EVE VVE EEV VEV EVV VVV)
T=$(mktemp -d "${TMPDIR:-/tmp}/mclust_periter_XXXXXX")
trap 'rm -rf "$T"' EXIT
export OMP_NUM_THREADS=1
echo "# per-iteration cost, K=$K, $IT iterations, 1 thread; $(uptime | sed 's/.*load/load/')"
for M in "${MODELS[@]}"; do
  valgrind --tool=callgrind --toggle-collect=emgmm_fit_iterate --callgrind-out-file="$T/cg.$M" \
    "$EXE" "$DIR" "$K" "$IT" 1 "$M" >"$T/cgout.$M" 2>"$T/cgerr.$M"
  callgrind_annotate "$T/cg.$M" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' >"$T/ir.$M"
done
for r in $(seq 1 "$REP"); do
  rot=("${MODELS[@]:r % 14}" "${MODELS[@]:0:r % 14}")
  "$EXE" "$DIR" "$K" "$IT" 1 "$(IFS=,; echo "${rot[*]}")" | grep -v '^#' >>"$T/wall"
done
echo "# after: $(uptime | sed 's/.*load/load/')"
/usr/bin/python3 - "$T" "$IT" "${MODELS[@]}" <<'P'
import os, statistics, sys
T, it, models = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
ir = {m: int(open(os.path.join(T, "ir." + m)).read().split()[0]) / it for m in models}
wall, inner = {}, {}
for line in open(os.path.join(T, "wall")):
    f = line.split()
    wall.setdefault(f[0], []).append(float(f[1]))
    inner[f[0]] = (int(f[2]), int(f[3]))
for m in models:
    cg = open(os.path.join(T, "cgout." + m)).read().split("\n")
    row = [l for l in cg if l.startswith(m + " ")]
    if row:
        f = row[0].split()
        inner[m] = (int(f[2]), int(f[3]))
v_ir, v_w = ir["VVV"], statistics.median(wall["VVV"])
print("| model | instructions / iteration | × VVV | s / iteration (median) | × VVV | inner max | inner fails |")
print("|---|---|---|---|---|---|---|")
for m in models:
    w = statistics.median(wall[m])
    print(f"| {m} | {ir[m]:.4g} | {ir[m] / v_ir:.3f} | {w:.4f} | {w / v_w:.2f} | {inner[m][0]} | {inner[m][1]} |")
P
