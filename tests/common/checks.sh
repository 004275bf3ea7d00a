# checks.sh — the one assertion helper of every shell test in tests/, sourced first:
#   . "$(cd "$(dirname "$0")" && pwd)/../common/checks.sh"
#
#   scratch NAME                   make a scratch directory (removed on exit) and enter it
#   check 'CONDITION' [MESSAGE]    one counted assertion: CONDITION is evaluated in the test's
#                                  shell (so it sees its variables and functions, and may hold
#                                  pipes, && and !); false records a failure with MESSAGE
#                                  (default: the condition)
#   fail MESSAGE                   a failure, for assertions written `COND || fail MESSAGE`
#   ok CMD...                      exit 0 expected; stdout in out.txt, stderr in err.txt
#                                  (CHECK_NO_WARNING=1: and no "warning" on stderr;
#                                  CHECK_ULIMIT_KB: run CMD under ulimit -v)
#   bad CODE SUBSTRING OUTFILE CMD...
#                                  exit CODE, stderr one line "emgmm: ..." holding SUBSTRING
#                                  and no control bytes, OUTFILE (if not '') not created, no
#                                  temporary left (CHECK_ULIMIT_KB: run CMD under ulimit -v)
#   same FILE1 FILE2 [WHAT]        identical bytes
#   no_temps WHAT                  no output temporary (".NAME.XXXXXX") in the directory
#   checks_done [LABEL]            "LABEL: N checks, M failed"; exits 0 when none failed
#
# FAILS and CHECKS count; PY is the Python to use.
FAILS=0
CHECKS=0
# The system interpreter starts fast; version-manager shims can take a second.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
CHECKS_DIR=

scratch() {
  CHECKS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/emgmm_$1_XXXXXX") || exit 1
  trap 'rm -rf "$CHECKS_DIR"' EXIT
  cd "$CHECKS_DIR" || exit 1
}

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

check() {
  CHECKS=$((CHECKS + 1))
  eval "$1" || fail "${2:-check failed: $1}"
}

# CMD, under ulimit -v CHECK_ULIMIT_KB when that is set; stdout in out.txt, stderr in err.txt
run_limited() {
  if [ -n "${CHECK_ULIMIT_KB:-}" ]; then
    (ulimit -v "$CHECK_ULIMIT_KB"; exec "$@") >out.txt 2>err.txt
  else
    "$@" >out.txt 2>err.txt
  fi
}

ok() {
  CHECKS=$((CHECKS + 1))
  run_limited "$@"
  local rc=$?
  [ $rc -eq 0 ] || fail "'$*' exited $rc: $(head -c 400 err.txt)"
  if [ "${CHECK_NO_WARNING:-0}" = 1 ] && grep -q warning err.txt; then
    fail "'$*' warned: $(cat err.txt)"
  fi
}

bad() {
  local code=$1 msg=$2 outfile=$3
  shift 3
  CHECKS=$((CHECKS + 1))
  run_limited "$@"
  local rc=$?
  # ASan (allocator_may_return_null=1) notes each refused allocation before malloc returns NULL
  sed -i '/^==[0-9]*==WARNING: AddressSanitizer failed to allocate/d' err.txt
  [ $rc -eq "$code" ] || fail "'$*' exited $rc, expected $code: $(head -c 400 err.txt)"
  grep -qF -- "$msg" err.txt || fail "'$*': stderr lacks '$msg': $(head -c 400 err.txt)"
  [ "$(wc -l <err.txt)" -eq 1 ] || fail "'$*': stderr is not one line: $(head -c 600 err.txt)"
  grep -q '^emgmm: ' err.txt || fail "'$*': message does not start with 'emgmm: '"
  LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <err.txt) && fail "'$*': control bytes in the message"
  if [ -n "$outfile" ] && [ -e "$outfile" ]; then fail "'$*' left $outfile behind"; fi
  if ls -a | grep -q '^\..*\.[A-Za-z0-9]\{6\}$'; then fail "'$*' left a temporary file"; fi
}

same() {
  CHECKS=$((CHECKS + 1))
  cmp -s "$1" "$2" || fail "${3:+$3: }$1 and $2 differ"
}

# The io layer's temporaries are ".<name>.XXXXXX" beside the target.
no_temps() {
  CHECKS=$((CHECKS + 1))
  if ls -a | grep -q '^\..*\.[A-Za-z0-9]\{6\}$'; then fail "$1: left a temporary file: $(ls -a)"; fi
}

checks_done() {
  echo "${1:+$1: }$CHECKS checks, $FAILS failed"
  [ "$FAILS" -eq 0 ] && exit 0
  exit 1
}
