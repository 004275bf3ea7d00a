#!/usr/bin/env bash
# run-tests.sh — the README's second command: build from scratch with warnings
# as errors and run the whole test suite; ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${EMGMM_TEST_BUILDDIR:-build-test}
rm -rf "$dir"
if ! meson setup "$dir" --werror ${EMGMM_MESON_ARGS:-} >"$dir.setup.log" 2>&1; then
  cat "$dir.setup.log"; echo "0 passed, 1 failed"; exit 1
fi
rm -f "$dir.setup.log"
if ! ninja -C "$dir"; then echo "0 passed, 1 failed"; exit 1; fi
meson test -C "$dir" --print-errorlogs --num-processes 2 ${EMGMM_TEST_ARGS:-}
rc=$?
/usr/bin/python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP":
        skip += 1
        why = [l for l in (json.loads(line).get("stdout") or "").splitlines() if l.startswith("skipped")]
        print("SKIP %s: %s" % (json.loads(line)["name"], why[-1] if why else "no reason given"))
    else: bad += 1
print(f"{ok} passed, {bad} failed" + (f", {skip} skipped" if skip else ""))
PY
exit $rc
