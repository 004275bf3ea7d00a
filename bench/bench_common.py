"""bench_common.py — what the whole-run benchmarks (bench_e2e.py, bench_select.py) share:
timing a child process by wall clock and by its CPU time, the engines' environment (threads,
OpenBLAS core), the generated data sets, the CPU's name and medians with their range."""
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


def run(cmd, env, who):
    """Runs cmd; returns (wall seconds, user + sys CPU seconds of the child, stdout).  A
    failure ends the benchmark with WHO and the child's stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"{who}: {' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout


def engine_env(threads, coretype):
    """The environment both engines run in: THREADS OpenMP and OpenBLAS threads, and
    OPENBLAS_CORETYPE set to CORETYPE or, for 'unset', removed."""
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = str(threads)
    if coretype == "unset":
        env.pop("OPENBLAS_CORETYPE", None)
    else:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def data_dir(base, n, d, k):
    """BASE/n{n}_d{d}_k{k}_s1 with bench/gen_data.py's X.npy, generated if missing."""
    path = os.path.join(base, f"n{n}_d{d}_k{k}_s1")
    if not os.path.exists(os.path.join(path, "X.npy")):
        subprocess.run([PY, os.path.join(HERE, "gen_data.py"), "--n", str(n), "--d", str(d),
                        "--k", str(k), "--seed", "1", "--out", path], check=True,
                       capture_output=True)
    return path


def cpu_name():
    """(lscpu's model name, [CPU family, model])."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines()
                  if l.startswith("Model name")), "?")
    fam = [l.split(":", 1)[1].strip() for l in lscpu.splitlines()
           if l.startswith(("CPU family", "Model:"))]
    return model, fam


def med(xs):
    """median (min–max)"""
    return f"{statistics.median(xs):.3g} ({min(xs):.3g}–{max(xs):.3g})"
