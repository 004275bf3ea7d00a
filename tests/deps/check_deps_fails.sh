#!/usr/bin/env bash
# check-deps: skip-file (this self-test spells out imports on purpose)
# check_deps_fails.sh — tools/check-deps.py catches what it is for: in a scratch tree, an
# import of a package the install script does not name fails the check, naming the file and
# the module; an import nobody provides fails; an optional import does not.
#   check_deps_fails.sh CHECK_DEPS_PY INSTALL_DEPS_SH
set -u
CHECK=$(realpath "$1"); INSTALL=$(realpath "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../common/checks.sh
. "$HERE/../common/checks.sh"
scratch deps
T=$PWD
mkdir -p "$T/tools" "$T/tests/x" "$T/bench"
cp "$CHECK" "$T/tools/check-deps.py"
cp "$INSTALL" "$T/tools/install-deps.sh"

# 1. the real list with a test importing numpy: passes
printf 'import numpy\nimport json\n' >"$T/tests/x/t.py"
/usr/bin/python3 "$T/tools/check-deps.py" "$T" >"$T/out" 2>&1 || fail "clean tree fails: $(cat "$T/out")"

# 2. python3-numpy taken out of the list: the check names the file and the module
sed -i 's/python3-numpy//g' "$T/tools/install-deps.sh"
if /usr/bin/python3 "$T/tools/check-deps.py" "$T" >"$T/out" 2>&1; then
  fail "numpy not listed, yet the check passed"
fi
grep -q '^tests/x/t.py: module numpy is in Debian package python3-numpy' "$T/out" ||
  fail "the report does not name tests/x/t.py and numpy: $(cat "$T/out")"
cp "$INSTALL" "$T/tools/install-deps.sh"

# 3. the same import inside a shell test's embedded Python
printf '#!/bin/sh\n/usr/bin/python3 -c "import json, numpy as np; print(1)"\n' >"$T/tests/x/t.sh"
sed -i 's/python3-numpy//g' "$T/tools/install-deps.sh"
/usr/bin/python3 "$T/tools/check-deps.py" "$T" >"$T/out" 2>&1 && fail "shell import not caught"
grep -q '^tests/x/t.sh: module numpy' "$T/out" || fail "shell import not named: $(cat "$T/out")"
cp "$INSTALL" "$T/tools/install-deps.sh"

# 4. a module nothing provides: fails; inside try/except ImportError: passes
printf 'import emgmm_no_such_module_q7\n' >"$T/bench/b.py"
/usr/bin/python3 "$T/tools/check-deps.py" "$T" >"$T/out" 2>&1 && fail "unknown module not caught"
grep -q '^bench/b.py: module emgmm_no_such_module_q7 is not installed' "$T/out" ||
  fail "unknown module not named: $(cat "$T/out")"
printf 'try:\n    import emgmm_no_such_module_q7\nexcept ImportError:\n    pass\n' >"$T/bench/b.py"
/usr/bin/python3 "$T/tools/check-deps.py" "$T" >"$T/out" 2>&1 || fail "optional import fails: $(cat "$T/out")"

# 5. a package that only a bench-only group names: fine for bench/, not for tests/
printf 'import numpy\n' >"$T/bench/c.py"
sed -i 's/python3-numpy//g; s/^peers=(/peers=(python3-numpy /' "$T/tools/install-deps.sh"
/usr/bin/python3 "$T/tools/check-deps.py" "$T" >"$T/out" 2>&1
grep -q '^bench/c.py' "$T/out" && fail "bench file held to the test groups: $(cat "$T/out")"
grep -q '^tests/x/t.py: module numpy .* build/test groups' "$T/out" ||
  fail "test file not held to the test groups: $(cat "$T/out")"

checks_done check_deps
