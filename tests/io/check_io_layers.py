#!/usr/bin/env python3
"""check_io_layers.py TOOLS_IO_DIR [--known A.c:B.c ...] — the files of tools/io call each
other one way only:
builds the graph "file A calls a function defined in file B" from the sources (external
emgmm_io_* functions; static ones stay inside their file) and fails, naming the circle,
when the graph has a cycle.  Also checks that io_common.c, the base, calls no other file.
--known A.c:B.c names a pair of files known to call each other: a cycle made only of such
pairs is reported but does not fail."""
import os
import re
import sys

root = sys.argv[1]
known = set()
args = sys.argv[2:]
while args[:1] == ["--known"] and len(args) >= 2:
    a, b = args[1].split(":")
    known |= {(a, b), (b, a)}
    args = args[2:]
files = sorted(f for f in os.listdir(root) if f.endswith(".c"))
DEF = re.compile(r"^[A-Za-z_][\w \*]*?\b(emgmm_io_\w+)\s*\(", re.M)
CALL = re.compile(r"\b(emgmm_io_\w+)\s*\(")


def strip(src):
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', src)


text = {f: strip(open(os.path.join(root, f)).read()) for f in files}
owner = {}
for f in files:
    for m in DEF.finditer(text[f]):
        # a definition, not a prototype: the next non-blank after ')' is '{'
        depth, i = 0, m.end() - 1
        while i < len(text[f]):
            depth += text[f][i] == "("
            depth -= text[f][i] == ")"
            i += 1
            if depth == 0:
                break
        if text[f][i:].lstrip().startswith("{"):
            owner[m.group(1)] = f
edges = {f: set() for f in files}
for f in files:
    for m in CALL.finditer(text[f]):
        g = owner.get(m.group(1))
        if g and g != f:
            edges[f].add(g)
bad = 0
for f in files:
    for g in sorted(edges[f]):
        print(f"{f} -> {g}")
if edges.get("io_common.c"):
    print(f"FAIL: io_common.c (the base) calls {sorted(edges['io_common.c'])}")
    bad = 1
state = {}


def visit(f, path):
    global bad
    state[f] = 1
    for g in sorted(edges[f]):
        if state.get(g) == 1:
            cyc = path[path.index(g):] + [g]
            if all(step in known for step in zip(cyc, cyc[1:])):
                print("known circle (not failing): " + " -> ".join(cyc))
            else:
                print("FAIL: call circle: " + " -> ".join(cyc))
                bad = 1
        elif g not in state:
            visit(g, path + [g])
    state[f] = 2


for f in files:
    if f not in state:
        visit(f, [f])
print("tools/io call graph: %d files, %d edges, %s" %
      (len(files), sum(map(len, edges.values())), "a circle" if bad else "one way" + (" (known circles aside)" if known else "")))
sys.exit(bad)
