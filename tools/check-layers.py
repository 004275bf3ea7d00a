#!/usr/bin/python3
"""check-layers.py — the library's layers call one way (docs/architecture.md).

    tools/check-layers.py SRC_DIR LIBEMGMM_A        check the built library
    tools/check-layers.py --self-test SRC_DIR LIBEMGMM_A
                                                    ... and show that a bad
                                                    include and a bad call fail

Builds two graphs over the files of src/ and fails (exit 1, one line per
fault) on a cycle or an edge that goes up a layer:

  includes  every `#include "src/..."` line of every .c and .h file, read
            from the sources;
  calls     file A calls file B when A's object in the static library
            references (nm: U) a symbol that B's object defines (T, D, B, R).
            Static functions, macros and inline helpers never cross a file,
            so the objects' symbol tables hold every call between files.

A file's layer comes from LAYERS below (first matching prefix).  A file may
include or call its own layer and the layers below; any edge upward fails,
and so does any cycle between files, even within one layer.  Standard
library only; /usr/bin/python3.
"""
import os
import re
import subprocess
import sys

# Bottom up.  The first matching prefix of a path under src/ gives its layer.
LAYERS = [
    (0, "base", ["base/"]),
    (1, "linalg, dist, kernels", ["linalg/", "dist/", "em/kernels", "em/isa.c",
                                  "em/type_on.h", "em/type_off.h"]),
    (2, "family, init", ["family/", "init/"]),
    (3, "pass", ["em/pass", "em/missing_impl.h"]),
    (4, "driver", ["em/"]),
    (5, "core", ["core/"]),
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"src/([^"]+)"', re.M)


def layer_of(path):
    for rank, name, prefixes in LAYERS:
        if any(path.startswith(p) for p in prefixes):
            return rank, name
    return None, None


def source_files(src):
    out = []
    for root, _, files in os.walk(src):
        for f in files:
            if f.endswith((".c", ".h")):
                out.append(os.path.relpath(os.path.join(root, f), src))
    return sorted(out)


def include_edges(src, files):
    edges = []
    for f in files:
        with open(os.path.join(src, f), encoding="utf-8") as fh:
            for inc in INCLUDE.findall(fh.read()):
                edges.append((f, inc))
    return edges


def object_name(path):
    # meson names src/em/pass_f64.c's object em_pass_f64.c.o
    return path.replace("/", "_") + ".o"


def call_edges(lib, files):
    by_obj = {object_name(f): f for f in files if f.endswith(".c")}
    out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
    defined, used = {}, []
    for line in out.splitlines():
        # libemgmm.a:em_driver.c.o:0000000000000000 T emgmm_driver_fit
        # libemgmm.a:em_driver.c.o:                 U emgmm_run_init
        head, _, rest = line.rpartition(":")
        obj = head.rsplit(":", 1)[-1]
        parts = rest.split()
        if len(parts) < 2 or obj not in by_obj:
            continue
        kind, sym = parts[-2], parts[-1]
        if kind == "U":
            used.append((by_obj[obj], sym))
        elif kind in "TDBR":
            defined[sym] = by_obj[obj]
    missing = sorted({o for o in by_obj if o not in out})
    edges = sorted({(a, defined[s], s) for a, s in used if s in defined and defined[s] != a})
    return edges, missing


def cycles(nodes, edges):
    """Strongly connected components of more than one file (Tarjan)."""
    succ = {n: set() for n in nodes}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
        succ.setdefault(b, set())
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(succ):
        if v not in index:
            visit(v)
    return out


def check(src, lib, extra_includes=(), extra_calls=()):
    files = source_files(src)
    faults = []
    for f in files:
        if layer_of(f)[0] is None:
            faults.append("%s: in no layer (add it to LAYERS in tools/check-layers.py)" % f)
    inc = include_edges(src, files) + list(extra_includes)
    calls, missing = call_edges(lib, files)
    calls += list(extra_calls)
    for m in missing:
        faults.append("%s: no object in %s (stale build?)" % (m, lib))
    for a, b in inc:
        ra, na = layer_of(a)
        rb, nb = layer_of(b)
        if ra is not None and rb is not None and rb > ra:
            faults.append("upward include: %s (%s) includes src/%s (%s)" % (a, na, b, nb))
    for a, b, sym in calls:
        ra, na = layer_of(a)
        rb, nb = layer_of(b)
        if ra is not None and rb is not None and rb > ra:
            faults.append("upward call: %s (%s) calls %s in %s (%s)" % (a, na, sym, b, nb))
    for comp in cycles(files, [(a, b) for a, b in inc]):
        faults.append("include cycle: " + " <-> ".join(comp))
    for comp in cycles(files, [(a, b) for a, b, _ in calls]):
        faults.append("call cycle: " + " <-> ".join(comp))
    return faults, len(files), len(inc), len(calls)


def main(argv):
    self_test = argv[1:2] == ["--self-test"]
    args = argv[2:] if self_test else argv[1:]
    if len(args) != 2:
        sys.stderr.write(__doc__)
        return 2
    src, lib = args
    faults, nf, ni, nc = check(src, lib)
    for f in faults:
        print(f)
    print("%d files, %d includes, %d calls between files: %s" %
          (nf, ni, nc, "%d faults" % len(faults) if faults else "one way, no cycle"))
    if not self_test:
        return 1 if faults else 0
    # The checker must see a fault that is there: a lower layer including an
    # upper layer's header, a lower layer calling up, and a call cycle.
    ok = not faults
    probes = [
        ("a family file including the driver's header",
         dict(extra_includes=[("family/full.c", "em/driver.h")]), "upward include"),
        ("the pass calling the driver",
         dict(extra_calls=[("em/pass.c", "em/driver.c", "emgmm_driver_fit")]), "upward call"),
        ("two driver files calling each other",
         dict(extra_calls=[("em/step.c", "em/run.c", "emgmm_run_iterate")]), "call cycle"),
    ]
    for what, kw, expect in probes:
        got, *_ = check(src, lib, **kw)
        hit = [g for g in got if g.startswith(expect)]
        print("self-test: %s -> %s" % (what, hit[0] if hit else "NOT DETECTED"))
        ok = ok and bool(hit)
    # and a real bad include in a copy of the tree
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "src")
        shutil.copytree(src, copy)
        with open(os.path.join(copy, "linalg", "chol.c"), "a", encoding="utf-8") as fh:
            fh.write('\n#include "src/core/core.h"\n')
        got, *_ = check(copy, lib)
        hit = [g for g in got if "linalg/chol.c" in g and "core/core.h" in g]
        print("self-test: linalg/chol.c edited to include core/core.h -> %s" %
              (hit[0] if hit else "NOT DETECTED"))
        ok = ok and bool(hit)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
