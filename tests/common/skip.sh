#!/usr/bin/env bash
# skip.sh REASON... — a test that cannot run on this machine: says why and exits 77, which
# meson reports as SKIP (and tools/run-tests.sh lists with its reason), never as a pass.
echo "skipped: $*"
exit 77
