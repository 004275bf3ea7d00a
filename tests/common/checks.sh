# checks.sh — the assertions of the tool's end-to-end shell tests, sourced after the test
# has made and entered its scratch directory:
#   ok CMD...                         exit 0 expected
#   bad CODE SUBSTRING OUTFILE CMD... a one-line "emgmm: " error with SUBSTRING, no OUTFILE,
#                                     no temporary left behind
#   same FILE1 FILE2                  identical bytes
# fail records a failure; FAILS and CHECKS count; PY is the Python to use.
FAILS=0
CHECKS=0
# The system interpreter starts fast; version-manager shims can take a second.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# ok CMD...: exit 0 expected
ok() {
  CHECKS=$((CHECKS + 1))
  "$@" >out.txt 2>err.txt
  local rc=$?
  [ $rc -eq 0 ] || fail "'$*' exited $rc: $(head -c 400 err.txt)"
}

# bad CODE SUBSTRING OUTFILE CMD...: exit CODE, stderr has SUBSTRING on one
# line starting "emgmm: ", and OUTFILE (if not '') was not created.
bad() {
  local code=$1 msg=$2 outfile=$3
  shift 3
  CHECKS=$((CHECKS + 1))
  "$@" >out.txt 2>err.txt
  local rc=$?
  [ $rc -eq "$code" ] || fail "'$*' exited $rc, expected $code: $(head -c 400 err.txt)"
  grep -qF -- "$msg" err.txt || fail "'$*': stderr lacks '$msg': $(head -c 400 err.txt)"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "'$*': stderr is not one line: $(cat err.txt)"
  grep -q '^emgmm: ' err.txt || fail "'$*': message does not start with 'emgmm: '"
  if [ -n "$outfile" ] && [ -e "$outfile" ]; then fail "'$*' left $outfile behind"; fi
  if ls -a | grep -q '^\..*\.[A-Za-z0-9]\{6\}$'; then fail "'$*' left a temporary file"; fi
}

same() { CHECKS=$((CHECKS + 1)); cmp -s "$1" "$2" || fail "$1 and $2 differ"; }

