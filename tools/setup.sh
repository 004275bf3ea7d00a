#!/usr/bin/env bash
# setup.sh — the README's first command: install the packages, configure and
# build emgmm in build/, and run the built-in demo (the classic 1-D example).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then bash tools/install-deps.sh; else sudo bash tools/install-deps.sh; fi
if [ ! -f build/build.ninja ]; then meson setup build; fi
ninja -C build
./build/tools/emgmm demo
