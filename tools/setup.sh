#!/usr/bin/env bash
# setup.sh — the README's first command: install the packages, configure and
# build emgmm in build/, and run the built-in demo (the classic 1-D example).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then bash tools/install-deps.sh; else sudo bash tools/install-deps.sh; fi
if [ ! -f build/build.ninja ]; then meson setup build; fi
# The Python package goes where Debian's interpreter looks (its platlib,
# e.g. /usr/local/lib/python3.11/dist-packages), not meson's default guess.
pydir=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_path("platlib"))')
meson configure build -Dpython.platlibdir="$pydir" -Dpython.purelibdir="$pydir"
ninja -C build
# The package only (the library, tool and headers stay in build/).
if [ "$(id -u)" = 0 ]; then meson install -C build --quiet --tags python-runtime; else sudo meson install -C build --quiet --tags python-runtime; fi
(cd / && /usr/bin/python3 -c 'import emgmm; print("python: emgmm", emgmm.__version__, "from", emgmm.__file__)') \
  || echo "setup.sh: the Python package did not install (python3-dev/python3-numpy missing?)" >&2
./build/tools/emgmm demo
