#!/usr/bin/python3
"""bench_h5.py — the numbers of issue 22 on the d = 1024 workload, as one table.

Builds (once, in --dir) 10,000 x 1024 float64 data with K = 8 full covariances
(bench/gen_data.py: X.npy, init.json), the model m.h5 / m.json fitted from init.json
by two EM iterations, and X.h5 (h5py), then measures, interleaved, --repeats times
(median reported):

  load    bench/model_load on m.h5 and m.json: wall seconds of emgmm_io_model_load, the
          process's peak RSS above what it held before, over the model's parameter bytes
          (weights, means, covariances, precisions_cholesky)
  score   `emgmm score m.h5 X.npy` wall seconds minus the data pass alone
          (emgmm_score on the mapped data, bench/model_load)
  fit     `emgmm fit X.npy --init init.json --tol 0 --max-iter 2 --threads T` for each T of
          --fit-threads: maxrss (/usr/bin/time -v) over data + model parameter bytes, and
          user CPU seconds (load-independent; memory is too)
  h5 fit  per-iteration seconds (--log) of `fit X.h5` vs `fit X.npy`, same start (--init m.h5)

Timings depend on the machine's load; the table prints `uptime` beside them.
Usage: /usr/bin/python3 bench/bench_h5.py --emgmm build/tools/emgmm --model-load
       build/bench/model_load [--dir /tmp/h5w] [--repeats 3] [--threads 2]
       [--fit-threads 1,2]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def sh(cmd, env=None, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return r


def timed(cmd, env):
    """wall seconds and maxrss bytes of one run (/usr/bin/time -v)."""
    t0 = time.monotonic()
    r = sh(["/usr/bin/time", "-v"] + cmd, env=env)
    wall = time.monotonic() - t0
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr)
    return wall, int(m.group(1)) * 1024, r


def user_seconds(r):
    """user CPU seconds of a run under /usr/bin/time -v."""
    return float(re.search(r"User time \(seconds\): ([0-9.]+)", r.stderr).group(1))


def kv(out):
    d = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        d.setdefault(k, []).append(float(v))
    return d


def load():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--emgmm", required=True)
    ap.add_argument("--model-load", required=True)
    ap.add_argument("--dir", default="/tmp/h5w")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fit-threads", default="1,2", help="thread counts of the fit measure")
    ap.add_argument("--skip", default="", help="comma list of: load,json,score,fit,h5fit")
    a = ap.parse_args()
    skip = set(a.skip.split(",")) if a.skip else set()
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    os.makedirs(a.dir, exist_ok=True)
    j = lambda f: os.path.join(a.dir, f)
    if not os.path.exists(j("init.json")):
        sh(["/usr/bin/python3", os.path.join(HERE, "gen_data.py"), "--n", "10000", "--d", "1024",
            "--k", "8", "--seed", "1", "--out", a.dir, "--force"])
    fit0 = [a.emgmm, "fit", j("X.npy"), "--init", j("init.json"), "--tol", "0", "--max-iter", "2",
            "-q"]
    for ext in ("h5", "json"):
        if not os.path.exists(j("m." + ext)):
            sh(fit0 + ["-o", j("m." + ext)], env=env)
    if not os.path.exists(j("X.h5")):
        sh(["/usr/bin/python3", "-c",
            "import numpy as np, h5py, sys; x = np.load(sys.argv[1]);"
            "f = h5py.File(sys.argv[2], 'w'); f.create_dataset('X', data=x); f.close()",
            j("X.npy"), j("X.h5")])
    rows = []
    res = {}

    def add(key, v):
        res.setdefault(key, []).append(v)

    for rep in range(a.repeats):
        if "load" not in skip:
            out = kv(sh([a.model_load, j("m.h5"), j("X.npy"), "2"], env=env).stdout)
            add("h5_load_s", out["load_s"][0])
            add("h5_load_ratio", out["load_peak_over_params"][0])
            add("pass_s", min(out["pass_s"]))
            pbytes = out["param_bytes"][0]
        if "score" not in skip:
            w, rss, _ = timed([a.emgmm, "score", j("m.h5"), j("X.npy")], env)
            add("score_cli_s", w)
            add("score_cli_rss", rss)
        if "json" not in skip:
            out = kv(sh([a.model_load, j("m.json")], env=env).stdout)
            add("json_load_s", out["load_s"][0])
            add("json_load_ratio", out["load_peak_over_params"][0])
        if "fit" not in skip:
            for t in [int(x) for x in a.fit_threads.split(",")]:
                w, rss, r = timed(fit0 + ["--threads", str(t), "-o", j("fit_out.h5")],
                                  dict(env, OMP_NUM_THREADS=str(t)))
                add("fit_rss_t%d" % t, rss)
                add("fit_user_t%d" % t, user_seconds(r))
                add("fit_s_t%d" % t, w)
        if "h5fit" not in skip:
            for src in ("X.npy", "X.h5"):
                log = j("fit_%s.log" % src)
                sh([a.emgmm, "fit", j(src), "--init", j("m.h5"), "--tol", "0", "--max-iter", "3",
                    "-q", "--log", log, "-o", j("fit_%s.h5" % src)], env=env)
                its = [json.loads(l) for l in open(log) if '"iteration"' in l]
                el = [it["elapsed"] for it in its]
                per = [el[0]] + [el[i] - el[i - 1] for i in range(1, len(el))]
                add("iter_" + src, statistics.median(per))
        add("load_avg", load())
    med = {k: statistics.median(v) for k, v in res.items()}
    n, d, K = 10000, 1024, 8
    data_bytes = n * d * 8
    print("| measure | value (median of %d) | goal |" % a.repeats)
    print("|---|---|---|")
    if "h5_load_s" in med:
        print("| HDF5 model load (emgmm_io_model_load) | %.3f s | <= 0.2 s |" % med["h5_load_s"])
        print("| HDF5 load peak RSS / parameter bytes (%.1f MB) | %.2f | <= 1.2 |"
              % (pbytes / 1e6, med["h5_load_ratio"]))
        print("| data pass alone (emgmm_score) | %.3f s | |" % med["pass_s"])
    if "score_cli_s" in med:
        print("| `emgmm score m.h5 X.npy` wall | %.3f s (+%.3f s over the pass) | <= pass + 0.3 s |"
              % (med["score_cli_s"], med["score_cli_s"] - med.get("pass_s", 0)))
    if "json_load_s" in med:
        print("| JSON model load | %.3f s | <= 1.5 s |" % med["json_load_s"])
        print("| JSON load peak RSS / parameter bytes | %.2f | <= 2 |" % med["json_load_ratio"])
    pbytes = 8 * K * (1 + d + 2 * d * d)  # weights, means, covariances, precisions_cholesky
    for t in [int(x) for x in a.fit_threads.split(",")]:
        if "fit_rss_t%d" % t in med:
            rss = med["fit_rss_t%d" % t]
            print("| fit --init init.json, %d thread(s): maxrss / (data + params) | "
                  "%.1f MB / %.1f MB = %.2f (user %.1f s) | <= 1.3 |"
                  % (t, rss / 1e6, (data_bytes + pbytes) / 1e6, rss / (data_bytes + pbytes),
                     med["fit_user_t%d" % t]))
    if "iter_X.npy" in med:
        print("| fit per iteration .npy / .h5 | %.3f s / %.3f s (h5/npy = %.3f) | within 5 %% |"
              % (med["iter_X.npy"], med["iter_X.h5"], med["iter_X.h5"] / med["iter_X.npy"]))
    print("\nload average (1 min) at each repeat: %s; threads %d; %s"
          % (", ".join("%.1f" % x for x in res["load_avg"]), a.threads,
             sh(["uptime"]).stdout.strip()))
    print("raw: " + json.dumps(res))


if __name__ == "__main__":
    main()
