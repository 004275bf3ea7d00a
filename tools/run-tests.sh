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
/usr/bin/python3 - "$dir/meson-logs/testlog.json" "$dir/tests/python/pytest-junit.xml" <<'PY'
import json, os, sys
import xml.etree.ElementTree as ET
ok = bad = skip = 0
for line in open(sys.argv[1]):
    rec = json.loads(line)
    r = rec["result"]
    # The pytest suite (one meson test) counts as its individual tests, from
    # its JUnit report; a failed run whose report shows no failure (pytest
    # exit 5: no tests collected, or a crash) still counts one failure.
    if rec["name"].split("/")[-1].strip() == "pytest" and os.path.exists(sys.argv[2]):
        t = ET.parse(sys.argv[2]).getroot()
        suites = [t] if t.tag == "testsuite" else list(t.iter("testsuite"))
        n = sum(int(s.get("tests", 0)) for s in suites)
        f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
        sk = sum(int(s.get("skipped", 0)) for s in suites)
        ok += n - f - sk; bad += f; skip += sk
        if r not in ("OK", "EXPECTEDFAIL", "SKIP") and f == 0: bad += 1
        continue
    if r in ("OK", "EXPECTEDFAIL"): ok += 1
    elif r == "SKIP":
        skip += 1
        why = [l for l in (json.loads(line).get("stdout") or "").splitlines() if l.startswith("skipped")]
        print("SKIP %s: %s" % (json.loads(line)["name"], why[-1] if why else "no reason given"))
    else: bad += 1
print(f"{ok} passed, {bad} failed" + (f", {skip} skipped" if skip else ""))
PY
exit $rc
