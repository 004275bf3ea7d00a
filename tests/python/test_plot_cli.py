"""`python3 -m emgmm plot` and `emgmm plot`: every kind writes a non-empty file of the asked
format (checked by its magic bytes); every bad input is one line, its exit code, and no file."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
from sklearn.mixture import GaussianMixture as SkGM  # noqa: E402

MAGIC = {"png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
         "pdf": lambda b: b.startswith(b"%PDF-"),
         "svg": lambda b: b"<svg" in b[:4096] and b.rstrip().endswith(b"</svg>")}
KINDS = ("density", "clusters", "uncertainty", "bic", "convergence")


def runners():
    """The Python form always; the C tool's form when the suite was given the tool."""
    r = [("python", [sys.executable, "-m", "emgmm", "plot"])]
    if os.environ.get("EMGMM_CLI"):
        r.append(("emgmm", [os.environ["EMGMM_CLI"], "plot"]))
    return r


def run(cmd, *args, env=None):
    return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                          env=env, timeout=300)


def write_model(path, g):
    path.write_text(json.dumps({
        "format": "emgmm-model", "version": 1, "covariance_type": g.covariance_type,
        "n_components": int(len(g.weights_)), "n_features": int(g.means_.shape[1]),
        "weights": (g.weights_ / g.weights_.sum()).tolist(), "means": g.means_.tolist(),
        "covariances": np.asarray(g.covariances_).tolist()}))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    t = tmp_path_factory.mktemp("plotcli")
    r = np.random.default_rng(1)
    X2 = np.vstack([r.multivariate_normal([0, 0], [[1, .6], [.6, 1]], 500),
                    r.multivariate_normal([4, 2], [[.5, 0], [0, 2]], 300)])
    np.savetxt(t / "x2.csv", X2, delimiter=",", header="a,b", comments="")
    np.save(t / "x2.npy", X2)
    X2.astype("<f4").tofile(t / "x2.f32")
    X1 = np.concatenate([r.normal(20, 5, 4000), r.normal(40, 5, 8000)])
    np.savetxt(t / "x1.txt", X1)
    X3 = np.hstack([X2, r.normal(size=(800, 1))])
    np.savetxt(t / "x3.tsv", X3, delimiter="\t")
    g2 = SkGM(2, random_state=0).fit(X2)
    write_model(t / "m2.json", g2)
    write_model(t / "m1.json", SkGM(2, covariance_type="spherical", random_state=0).fit(X1[:, None]))
    write_model(t / "m3.json", SkGM(2, covariance_type="diag", random_state=0).fit(X3))
    rows = []
    for cov in ("full", "tied", "diag", "spherical"):
        for k in (1, 2, 3):
            g = SkGM(k, covariance_type=cov, random_state=0).fit(X2)
            rows.append((k, cov, g.bic(X2), g.aic(X2)))
    best = min(rows, key=lambda x: x[2])
    with open(t / "sweep.csv", "w") as f:
        f.write("k,covariance_type,status,bic,aic,log_likelihood,n_parameters,converged,n_iter,"
                "best,error\n")
        for k, cov, b, a in rows:
            f.write(f"{k},{cov},ok,{b!r},{a!r},0,1,true,2,{int((k, cov) == best[:2])},\n")
    with open(t / "fit.jsonl", "w") as f:
        f.write(json.dumps({"event": "start", "n": 800, "d": 2, "k": 2, "n_init": 1}) + "\n")
        for i, lb in enumerate([-3.4, -3.35, -3.33, -3.329], 1):
            f.write(json.dumps({"event": "iteration", "iter": i, "lower_bound": lb}) + "\n")
        f.write(json.dumps({"event": "done", "n_iter": 4, "converged": True}) + "\n")
    return t


def inputs(files, kind):
    return {"density": ["--model", files / "m2.json", "--data", files / "x2.csv"],
            "clusters": ["--model", files / "m2.json", "--data", files / "x2.npy"],
            "uncertainty": ["--model", files / "m2.json", "--data", files / "x2.f32", "--dims", 2],
            "bic": ["--table", files / "sweep.csv"],
            "convergence": ["--log", files / "fit.jsonl"]}[kind]


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_writes_the_asked_format(files, tmp_path, kind, fmt):
    # the C tool runs the same Python code: once per kind is enough for it
    for name, cmd in runners()[:1] if fmt != "png" else runners():
        out = tmp_path / f"{name}-{kind}.{fmt}"
        p = run(cmd, kind, *inputs(files, kind), "-o", out)
        assert p.returncode == 0, (name, p.stderr)
        assert p.stderr == ""
        data = out.read_bytes()
        assert len(data) > 1000 and MAGIC[fmt](data), (name, data[:16])
        assert sorted(os.listdir(tmp_path)) == sorted(
            f for f in os.listdir(tmp_path) if not f.startswith("."))  # no temporary left


@pytest.mark.parametrize("args", [
    ["density", "--model", "m1.json", "--data", "x1.txt"],          # 1-D, whitespace CSV
    ["clusters", "--model", "m1.json", "--data", "x1.txt"],
    ["clusters", "--model", "m3.json", "--data", "x3.tsv"],         # d = 3: PCA
    ["clusters", "--model", "m3.json", "--data", "x3.tsv", "--features", "2,0"],
    ["clusters", "--model", "m3.json", "--data", "x3.tsv", "--projection", "grid"],
    ["density", "--model", "m3.json", "--data", "x3.tsv", "--features", "0,1"],
    ["uncertainty", "--model", "m3.json", "--data", "x3.tsv", "--sample", "100", "--seed", "3"],
    ["bic", "--table", "sweep.csv", "--criterion", "aic", "--title", "AIC of the sweep"],
    ["density", "--model", "m2.json"],                                # no data: the contours
])
def test_options(files, tmp_path, args):
    out = tmp_path / "o.png"
    args = [files / a if (files / a).exists() else a for a in args]
    p = run(runners()[0][1], *args, "-o", out)
    assert p.returncode == 0, p.stderr
    assert MAGIC["png"](out.read_bytes())


def fake_no_matplotlib(tmp_path):
    d = tmp_path / "nompl" / "matplotlib"
    d.mkdir(parents=True)
    (d / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tmp_path / "nompl") + os.pathsep + env.get("PYTHONPATH", "")
    return env


BAD = [
    # (name, args, exit code, words in the message)
    ("dimension mismatch", ["clusters", "--model", "m1.json", "--data", "x2.csv"], 3,
     "the model has 1 feature|but the data have 2 columns"),
    ("kind needs data", ["clusters", "--model", "m2.json"], 2, "clusters needs --data"),
    ("uncertainty needs data", ["uncertainty", "--model", "m2.json"], 2, "needs --data"),
    ("density needs a model", ["density", "--data", "x2.csv"], 2, "density needs --model"),
    ("bic needs a table", ["bic"], 2, "bic needs --table"),
    ("convergence needs a log", ["convergence", "--model", "m2.json"], 2, "needs --log"),
    ("unknown kind", ["histogram", "--model", "m2.json"], 2, "unknown kind 'histogram'"),
    ("bad extension", ["bic", "--table", "sweep.csv", "-o", "out.jpg"], 2, ".png, .svg or .pdf"),
    ("no output", ["bic", "--table", "sweep.csv", "-o", None], 2, "-o FILE is required"),
    ("missing model file", ["density", "--model", "nope.json"], 3,
     "nope.json|No such file or directory"),
    ("bad model file", ["density", "--model", "x2.csv"], 3, "invalid JSON"),
    ("bad data", ["clusters", "--model", "m2.json", "--data", "bad.csv"], 3,
     "non-numeric value 'abc'"),
    ("ragged data", ["clusters", "--model", "m2.json", "--data", "ragged.csv"], 3, "fields"),
    ("raw without dims", ["clusters", "--model", "m2.json", "--data", "x2.f32"], 2, "--dims"),
    ("bad table", ["bic", "--table", "fit.jsonl"], 3, "not an emgmm select table"),
    ("bad log", ["convergence", "--log", "sweep.csv"], 3, "not a JSON-lines fit log"),
    ("bad features", ["clusters", "--model", "m3.json", "--data", "x3.tsv", "--features", "0,7"],
     3, "column 7 is out of range"),
    ("bad sample", ["clusters", "--model", "m2.json", "--data", "x2.csv", "--sample", "-4"], 2,
     "--sample"),
    ("no such directory", ["bic", "--table", "sweep.csv", "-o", "nodir/o.png"], 3,
     "no such directory"),
    ("matplotlib missing", ["bic", "--table", "sweep.csv"], 5, "matplotlib is not installed"),
]


@pytest.mark.parametrize("name,args,code,words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_and_no_file(files, tmp_path, name, args, code, words):
    (files / "bad.csv").write_text("a,b\n1,2\n3,abc\n")
    (files / "ragged.csv").write_text("1,2\n3\n")
    work = tmp_path / "w"
    work.mkdir()
    out = work / "out.png"
    args = list(args)
    if "-o" in args:
        i = args.index("-o")
        if args[i + 1] is None:
            del args[i:i + 2]
        else:
            args[i + 1] = work / args[i + 1]
    else:
        args += ["-o", out]
    args = [files / a if isinstance(a, str) and (files / a).exists() else a for a in args]
    env = fake_no_matplotlib(tmp_path) if name == "matplotlib missing" else None
    both = name in ("dimension mismatch", "kind needs data", "matplotlib missing",
                    "bad extension", "bad data", "no such directory")
    for runner, cmd in runners() if both else runners()[:1]:
        p = run(cmd, *args, env=env)
        assert p.returncode == code, (runner, p.returncode, p.stderr)
        lines = p.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("emgmm: plot: "), (runner, p.stderr)
        for w in words.split("|"):
            assert w in lines[0], (runner, lines[0])
        assert p.stdout == ""
        assert os.listdir(work) == [], (runner, os.listdir(work))  # no file, no temporary


def test_a_failed_run_leaves_an_existing_picture_alone(files, tmp_path):
    out = tmp_path / "keep.png"
    out.write_bytes(b"old picture")
    p = run(runners()[0][1], "clusters", "--model", files / "m1.json", "--data",
            files / "x2.csv", "-o", out)
    assert p.returncode == 3
    assert out.read_bytes() == b"old picture"
    assert os.listdir(tmp_path) == ["keep.png"]


def test_large_npy_is_subsampled(files, tmp_path):
    """2,000,000 rows memory-mapped: only the 20,000 drawn rows are read and converted."""
    r = np.random.default_rng(5)
    big = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype="<f8",
                                    shape=(2_000_000, 2))
    for i in range(0, 2_000_000, 500_000):
        big[i:i + 500_000] = r.normal(size=(500_000, 2)) + (i // 500_000) % 2 * 4
    big.flush()
    del big
    out = tmp_path / "big.svg"
    p = run(runners()[0][1], "clusters", "--model", files / "m2.json", "--data",
            tmp_path / "big.npy", "-o", out)
    assert p.returncode == 0, p.stderr
    assert MAGIC["svg"](out.read_bytes())
