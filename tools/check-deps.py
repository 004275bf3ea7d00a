#!/usr/bin/python3
"""check-deps.py — every package a test, benchmark or tool needs is installed by
tools/install-deps.sh.

Finds what the project's scripts use:
  - Python modules imported by .py files (and by Python embedded in .sh files:
    heredocs and `python3 -c`) under tests/, bench/, tools/ and python/;
  - programs that meson.build files look up with find_program() and that Python
    scripts start with subprocess (a list literal's first string).
A file whose first lines say "check-deps: skip-file" is not read (the check's own
self-test).  A module of the standard library or of this repository is fine.  Any other is
looked up on this machine (importlib / PATH), its file mapped to the Debian
package that owns it (`dpkg -S`), and that package must be named in the
install script: for files under tests/ in its `build` or `test` group (those are
what run-tests.sh installs), elsewhere in any group.  An import inside
`try: ... except ImportError` (or a find_program(..., required: false)) is
optional: it may be absent, but if it is installed its package must be listed.

Usage: check-deps.py [ROOT]   (default: the repository holding this file)
Prints one line per problem ("FILE: module M: ...") and exits 1 when there is one.
"""
import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), ".."))
SCAN = ("tests", "bench", "tools", "python")
ALWAYS = ("build", "test")          # the groups run-tests.sh's path installs


def install_groups(path):
    """{group: set(packages)} from the `name=(...)` arrays of install-deps.sh."""
    text = open(path, encoding="utf-8").read()
    groups = {}
    for m in re.finditer(r"^(\w+)(\+?)=\(([^)]*)\)", text, re.M):
        name = m.group(1)
        if name == "pkgs":
            if m.group(3).lstrip().startswith('"$'):
                continue              # pkgs=("${build[@]}" ...): made of the groups
            name = "build" if not m.group(2) else "extra"   # a single flat list
        words = re.sub(r"#[^\n]*", "", m.group(3)).split()
        groups.setdefault(name, set()).update(words)
    return groups


def local_modules():
    """Names a script may import from the repository itself."""
    names = set()
    for top in SCAN:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "build"))]
            for f in filenames:
                if f.endswith(".py"):
                    names.add(f[:-3])
            if "__init__.py" in filenames:
                names.add(os.path.basename(dirpath))
    return names


def py_imports(path):
    """[(module, optional)] imported by a Python file."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
    except SyntaxError as e:
        return [("<syntax error: %s>" % e.msg, False)]
    out = []

    def optional_try(node):
        for h in node.handlers:
            names = []
            t = h.type
            if t is None:
                return True
            for n in (t.elts if isinstance(t, ast.Tuple) else [t]):
                if isinstance(n, ast.Name):
                    names.append(n.id)
            if {"ImportError", "ModuleNotFoundError", "Exception"} & set(names):
                return True
        return False

    def walk(node, optional):
        for child in ast.iter_child_nodes(node):
            opt = optional
            if isinstance(child, ast.Try) and optional_try(child):
                for b in child.body:
                    walk_one(b, True)
                for part in (child.handlers, child.orelse, child.finalbody):
                    for b in part:
                        walk_one(b, optional)
                continue
            walk_one(child, opt)

    def walk_one(child, opt):
        if isinstance(child, ast.Import):
            out.extend((a.name.split(".")[0], opt) for a in child.names)
        elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
            out.append((child.module.split(".")[0], opt))
        walk(child, opt)

    walk(tree, False)
    return out


IMPORT_RE = re.compile(r"(?:^|[;\"'(\s])import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)")
FROM_RE = re.compile(r"(?:^|[;\"'(\s])from\s+([\w.]+)\s+import\s")


def sh_imports(path):
    """Modules imported by Python embedded in a shell script (heredocs, -c)."""
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.lstrip().startswith("#"):
            continue
        for m in IMPORT_RE.finditer(line):
            for part in m.group(1).split(","):
                out.append((part.split()[0].split(".")[0], False))
        for m in FROM_RE.finditer(line):
            out.append((m.group(1).split(".")[0], False))
    return out


# External programs that shell scripts run (the others they run are Debian's essentials
# or the project's own binaries).
SH_PROGS = ("valgrind", "mpirun", "mpiexec", "Rscript", "perf", "h5dump", "h5ls", "python3",
            "pdftoppm", "convert", "xvfb-run", "gdb", "strace")
SH_PROG_RE = re.compile(r"(?:^|[|;&(`]|\$\(|\bthen\b|\bdo\b|\bexec\b|\btime\b)\s*(%s)\b(?![-.\w])"
                        % "|".join(re.escape(p) for p in SH_PROGS))


def sh_programs(path):
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        code = line.split(" #", 1)[0]
        if code.lstrip().startswith("#"):
            continue
        for m in SH_PROG_RE.finditer(code):
            out.append((m.group(1), False))
    return out


def py_programs(path):
    """Programs a Python script starts: the first string of a list literal
    passed to subprocess.run/Popen/check_output/call."""
    try:
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
    except SyntaxError:
        return []
    progs = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "subprocess"
                and node.args and isinstance(node.args[0], ast.List) and node.args[0].elts):
            first = node.args[0].elts[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                progs.append((os.path.basename(first.value), False))
    return progs


FIND_RE = re.compile(r"find_program\(\s*((?:'[^']+'\s*,\s*)*'[^']+')([^)]*)\)")


def meson_programs(path):
    out = []
    for m in FIND_RE.finditer(open(path, encoding="utf-8").read()):
        names = re.findall(r"'([^']+)'", m.group(1))
        optional = re.search(r"required\s*:\s*false", m.group(2)) is not None
        if any(n.endswith((".sh", ".py")) for n in names):
            continue                  # the repository's own scripts
        out.append(("|".join(names), optional))
    return out


def owner(path):
    """The Debian package owning a file, or None.  Debian 12 merges /bin into
    /usr/bin, but dpkg knows many programs under the old name."""
    cands = [path, os.path.realpath(path)]
    for c in list(cands):
        if c.startswith(("/usr/bin/", "/usr/sbin/", "/usr/lib/")):
            cands.append(c[len("/usr"):])
    for p in cands:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            if r.returncode == 0 and not line.startswith("diversion by"):
                return line.split(":")[0].split(",")[0].strip()
    return None


def essential(pkg):
    """Debian's essential packages (bash, dpkg, coreutils...) are on every system."""
    r = subprocess.run(["dpkg-query", "-W", "-f=${Essential}", pkg], capture_output=True, text=True)
    return r.stdout.strip() == "yes"


def module_file(name):
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    return spec.origin if spec.origin not in (None, "built-in", "frozen") else "builtin"


def main():
    groups = install_groups(os.path.join(ROOT, "tools", "install-deps.sh"))
    always = set().union(*(groups.get(g, set()) for g in ALWAYS))
    anygroup = set().union(*groups.values()) if groups else set()
    local = local_modules()
    stdlib = set(sys.stdlib_module_names)
    problems = []
    seen_pkg = {}

    def need(rel, what, path_of, optional):
        listed = always if rel.startswith("tests" + os.sep) else anygroup
        where = "the build/test groups" if listed is always else "any group"
        path = path_of()
        if path is None:
            if not optional:
                problems.append("%s: %s is not installed on this machine, and nothing in "
                                "tools/install-deps.sh provides it" % (rel, what))
            return
        if path == "builtin":
            return
        pkg = seen_pkg.get(path) or owner(path)
        seen_pkg[path] = pkg
        if pkg is None:
            hint = " (name /usr/bin/python3: another python3 on PATH may lack Debian's modules)" \
                if what == "program python3" else " (installed by hand?)"
            problems.append("%s: %s comes from %s, which no Debian package owns%s"
                            % (rel, what, path, hint))
        elif pkg not in listed and not essential(pkg):
            problems.append("%s: %s is in Debian package %s, which tools/install-deps.sh does "
                            "not name in %s" % (rel, what, pkg, where))

    for top in SCAN:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "build"))]
            for f in sorted(filenames):
                full = os.path.join(dirpath, f)
                rel = os.path.relpath(full, ROOT)
                with open(full, encoding="utf-8", errors="replace") as fh:
                    if "check-deps: skip-file" in fh.read(400):
                        continue
                if f.endswith(".py"):
                    mods, progs = py_imports(full), py_programs(full)
                elif f.endswith(".sh") and rel != os.path.join("tools", "install-deps.sh"):
                    mods, progs = sh_imports(full), sh_programs(full)
                elif f == "meson.build":
                    mods, progs = [], meson_programs(full)
                else:
                    continue
                for mod, opt in sorted(set(mods)):
                    if mod.startswith("<"):
                        problems.append("%s: %s" % (rel, mod))
                    elif mod in stdlib or mod in local or mod == "__future__":
                        continue
                    else:
                        need(rel, "module %s" % mod, lambda m=mod: module_file(m), opt)
                for prog, opt in sorted(set(progs)):
                    def which(p=prog):
                        for name in p.split("|"):
                            w = shutil.which(name)
                            if w:
                                return w
                        return None
                    need(rel, "program %s" % prog, which, opt)
    for p in problems:
        print(p)
    print("check-deps: %d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
