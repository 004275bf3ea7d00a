"""python3 -m emgmm plot KIND ... — the pictures of emgmm.plot from files, without writing Python.

    python3 -m emgmm plot density     --model m.json [--data X] -o density.png
    python3 -m emgmm plot clusters    --model m.json --data X -o clusters.svg [--features 0,2]
    python3 -m emgmm plot uncertainty --model m.json --data X -o unc.pdf
    python3 -m emgmm plot bic         --table sweep.csv -o bic.png
    python3 -m emgmm plot convergence --log fit.jsonl -o conv.png

`emgmm plot ...` (the C tool) runs exactly this.  Errors are one line on stderr,
"emgmm: plot: ...", with the C tool's exit codes: 2 usage, 3 unreadable or malformed input
(including a model and data that disagree in dimension), 5 matplotlib missing or an internal
failure.  The picture is written to a hidden temporary file beside the output and renamed into
place, so a failed run leaves no file (and an existing one untouched).
"""

import argparse
import os
import sys
import tempfile

import numpy as np

EXIT_USAGE, EXIT_INPUT, EXIT_INTERNAL = 2, 3, 5
KINDS = ("density", "clusters", "uncertainty", "bic", "convergence")
FORMATS = ("png", "svg", "pdf")
NEEDS = {"density": ("model",), "clusters": ("model", "data"), "uncertainty": ("model", "data"),
         "bic": ("table",), "convergence": ("log",)}
WHAT = {"model": "--model (a model JSON file)", "data": "--data (the data file)",
        "table": "--table (an 'emgmm select --table' file)",
        "log": "--log (an 'emgmm fit --log' file or a checkpoint)"}


class Fail(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as the C tool
        raise Fail(EXIT_USAGE, f"{message} (see 'emgmm plot --help')")


def _parser():
    p = _Parser(prog="emgmm plot", description="Draw a picture of a fitted Gaussian mixture, a "
                "select table or a fit log; the format (PNG, SVG, PDF) by the output's extension.",
                epilog="density needs --model (--data adds the histogram or points); clusters and "
                "uncertainty need --model and --data; bic needs --table; convergence needs --log. "
                "Exit codes: 0 success, 2 usage, 3 bad input, 5 matplotlib missing or internal.")
    p.add_argument("kind", metavar="KIND", help="density, clusters, uncertainty, bic or convergence")
    p.add_argument("-o", "--output", metavar="FILE", help="the picture: .png, .svg or .pdf")
    p.add_argument("--model", metavar="FILE", help="a model JSON file (emgmm fit -o)")
    p.add_argument("--data", metavar="FILE", help="data: CSV/TSV, .npy or raw .f64/.f32 (--dims)")
    p.add_argument("--table", metavar="FILE", help="a select table (emgmm select --table): CSV, "
                   "TSV or JSON")
    p.add_argument("--log", metavar="FILE", help="a fit log (emgmm fit --log) or a checkpoint")
    p.add_argument("--sample", metavar="N", type=int, default=20000, help="draw at most N points, "
                   "a seeded random subsample of larger data, stated on the figure (default "
                   "20000; 0 = all)")
    p.add_argument("--seed", metavar="S", type=int, default=0, help="the subsample's seed "
                   "(default 0)")
    p.add_argument("--features", metavar="I,J", help="for d > 2 (or to choose a pair): the two "
                   "columns to draw, counting from 0")
    p.add_argument("--projection", choices=("pair", "pca", "grid"), help="d > 2: a pair of "
                   "features, the data's first two principal axes (the default without "
                   "--features), or a pairs grid of the first 4 features (clusters)")
    p.add_argument("--criterion", choices=("bic", "aic"), default="bic", help="bic: the "
                   "criterion drawn (default bic)")
    p.add_argument("--bins", default="auto", help="density, 1-D: histogram bins (a number or "
                   "numpy's rule name; default auto)")
    p.add_argument("--title", help="the Axes' title instead of the default")
    p.add_argument("--dpi", type=int, default=120, help="PNG resolution (default 120)")
    g = p.add_argument_group("data options (as the C tool's)")
    g.add_argument("--format", choices=("csv", "tsv", "npy", "f64", "f32"), help="the data "
                   "format (default: by extension; CSV otherwise)")
    g.add_argument("--dims", type=int, help="columns of raw f64/f32 data")
    g.add_argument("--header", dest="header", action="store_const", const=True, default=None,
                   help="the first CSV row is a header (default: detected)")
    g.add_argument("--no-header", dest="header", action="store_const", const=False)
    g.add_argument("--delimiter", help="',', ';', tab or space (default: detected)")
    return p


# --------------------------------------------------------------------------- reading data

def _is_number(field):
    f = field.strip()
    if len(f) >= 2 and f[0] == f[-1] == '"':
        f = f[1:-1].strip()
    try:
        float(f)
        return True
    except ValueError:
        return False


def _layout(first, delimiter, header):
    """The tool's delimiter and header rules, applied to the first data line FIRST: the
    delimiter given (',', ';', tab or space) or the first of tab, ';', ',' the line holds
    (None: spaces); a header when asked, or when detected (no field of the line is a number)."""
    if delimiter is None:
        delimiter = next((c for c in ("\t", ";", ",") if c in first), None)
    else:
        delimiter = {"tab": "\t", "\\t": "\t", "space": None, " ": None}.get(delimiter, delimiter)
        if delimiter not in ("\t", ";", ",", None):
            raise Fail(EXIT_USAGE, f"--delimiter: expected ',', ';', tab or space, got "
                       f"'{delimiter}'")
    if header is None:
        fields = first.split(delimiter) if delimiter else first.split()
        header = not any(_is_number(f) for f in fields)
    return delimiter, header


def _read_csv_fast(path, delimiter, header):
    """numpy's C parser on the file, after the tool's delimiter and header rules are applied to
    its first data line; any trouble goes to _read_csv, which names the line."""
    first_i, first = None, None
    with open(path, encoding="utf-8-sig") as f:
        for i, ln in enumerate(f):
            if ln.strip() and not ln.startswith("#"):
                first_i, first = i, ln.rstrip("\r\n")
                break
    if first_i is None:
        raise Fail(EXIT_INPUT, f"no data rows ({path})")
    delimiter, header = _layout(first, delimiter, header)
    if '"' in first:
        return None  # quoted fields: the careful reader
    try:
        X = np.loadtxt(path, delimiter=delimiter, skiprows=first_i + int(header), comments="#",
                       ndmin=2, encoding="utf-8-sig", dtype=float)
    except ValueError:
        return None
    return X if X.size else None


def _read_csv(path, delimiter, header):
    if path == "-":
        lines = sys.stdin.read().splitlines()
        src = "stdin"
    else:
        with open(path, encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
        src = path
    first_i = next((i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#")),
                   None)
    if first_i is None:
        raise Fail(EXIT_INPUT, f"no data rows ({src})")
    delimiter, header = _layout(lines[first_i], delimiter, header)
    body = [ln for i, ln in enumerate(lines) if i > first_i or (i == first_i and not header)]
    body = [ln for ln in body if not ln.startswith("#")]
    while body and not body[-1].strip():
        body.pop()
    rows = []
    ncol = None
    for ln in body:
        parts = ln.split(delimiter) if delimiter else ln.split()
        if ncol is None:
            ncol = len(parts)
        if len(parts) != ncol:
            lineno = _line_of(lines, ln, len(rows), first_i, header)
            raise Fail(EXIT_INPUT, f"line {lineno} has {len(parts)} fields, the first data row "
                       f"{ncol} ({src}:{lineno})")
        try:
            rows.append([float(p.strip().strip('"')) for p in parts])
        except ValueError:
            lineno = _line_of(lines, ln, len(rows), first_i, header)
            bad = next(p for p in parts if not _is_number(p))
            raise Fail(EXIT_INPUT, f"non-numeric value '{bad.strip()}' ({src}:{lineno})") \
                from None
    if not rows:
        raise Fail(EXIT_INPUT, f"no data rows ({src})")
    return np.asarray(rows, dtype=float)


def _line_of(lines, text, row_index, first_i, header):
    """1-based line number of data row row_index (for messages only)."""
    seen = -1
    for i, ln in enumerate(lines):
        if i < first_i or (i == first_i and header) or ln.startswith("#"):
            continue
        seen += 1
        if seen == row_index:
            return i + 1
    return len(lines)


def read_data(path, fmt=None, dims=None, header=None, delimiter=None):
    """DATA as the C tool reads it: .npy (memory-mapped; a 1-D array is one column), raw
    .f64/.f32 (memory-mapped, --dims), else CSV/TSV with the tool's delimiter and header rules."""
    if fmt is None and path != "-":
        low = path.lower()
        fmt = ("npy" if low.endswith(".npy") else "f64" if low.endswith(".f64")
               else "f32" if low.endswith(".f32") else None)
        if fmt is None:
            try:
                with open(path, "rb") as f:
                    if f.read(6) == b"\x93NUMPY":
                        fmt = "npy"
            except OSError as e:
                raise Fail(EXIT_INPUT, f"cannot read {path}: {e.strerror}") from None
    try:
        if fmt == "npy":
            try:
                X = np.load(path, mmap_mode="r", allow_pickle=False)
            except ValueError as e:
                raise Fail(EXIT_INPUT, f"not a readable .npy file: {e} ({path})") from None
            if X.dtype not in (np.dtype("<f8"), np.dtype("<f4")) or X.ndim not in (1, 2):
                raise Fail(EXIT_INPUT, f".npy data must be a 1-D or 2-D array of <f8 or <f4, got "
                           f"{X.dtype.str} of shape {X.shape} ({path})")
            return X.reshape(-1, 1) if X.ndim == 1 else X
        if fmt in ("f64", "f32"):
            if not dims:
                raise Fail(EXIT_USAGE, f"raw {fmt} data need --dims D ({path})")
            dt = np.dtype("<f8" if fmt == "f64" else "<f4")
            size = os.path.getsize(path)
            if size == 0 or size % (dt.itemsize * dims):
                raise Fail(EXIT_INPUT, f"the file's {size} bytes are not a whole number of rows "
                           f"of {dims} {fmt} values ({path})")
            return np.memmap(path, dtype=dt, mode="r").reshape(-1, dims)
        X = _read_csv_fast(path, delimiter, header) if path != "-" else None
        if X is None:
            X = _read_csv(path, delimiter, header)
        bad = ~np.isfinite(X)
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise Fail(EXIT_INPUT, f"non-finite value {X[r, c]} in data row {r + 1}, field "
                       f"{c + 1} ({path})")
        return X
    except OSError as e:
        raise Fail(EXIT_INPUT, f"cannot read {path}: {e.strerror or e}") from None


# --------------------------------------------------------------------------- output

def _check_output(out):
    if not out:
        raise Fail(EXIT_USAGE, "-o FILE is required (.png, .svg or .pdf)")
    ext = os.path.splitext(out)[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise Fail(EXIT_USAGE, f"-o: the picture's extension must be .png, .svg or .pdf, got "
                   f"'{out}'")
    d = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(d):
        raise Fail(EXIT_INPUT, f"cannot write {out}: no such directory {d}")
    if not os.access(d, os.W_OK | os.X_OK):
        raise Fail(EXIT_INPUT, f"cannot write {out}: directory {d} is not writable")
    return ext


def _save(fig, out, fmt, dpi):
    d = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out) + ".", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            fig.savefig(f, format=fmt, dpi=dpi)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# --------------------------------------------------------------------------- plot

def plot_main(argv):
    a = _parser().parse_args(argv)
    if a.kind not in KINDS:
        raise Fail(EXIT_USAGE, f"unknown kind '{a.kind}': expected {', '.join(KINDS)}")
    for need in NEEDS[a.kind]:
        if getattr(a, need) is None:
            raise Fail(EXIT_USAGE, f"{a.kind} needs {WHAT[need]}")
    if a.sample < 0:
        raise Fail(EXIT_USAGE, f"--sample: expected an integer >= 0, got {a.sample}")
    if a.seed < 0:
        raise Fail(EXIT_USAGE, f"--seed: expected an integer >= 0, got {a.seed}")
    if a.projection == "grid" and a.kind != "clusters":
        raise Fail(EXIT_USAGE, "--projection grid is for clusters")
    bins = a.bins
    if bins.isdigit():
        bins = int(bins)
        if bins < 1:
            raise Fail(EXIT_USAGE, f"--bins: expected a positive number or a rule name, got "
                       f"'{a.bins}'")
    fmt = _check_output(a.output)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise Fail(EXIT_INTERNAL, "matplotlib is not installed (Debian: apt-get install "
                   "python3-matplotlib; pip: matplotlib)") from None
    from . import plot

    model = X = None
    if a.model is not None:
        try:
            model = plot.load_model(a.model)
        except OSError as e:
            raise Fail(EXIT_INPUT, f"cannot read {a.model}: {e.strerror or e}") from None
        except ValueError as e:
            raise Fail(EXIT_INPUT, str(e) if a.model in str(e) else f"{e} ({a.model})") from None
    if a.data is not None and a.kind in ("density", "clusters", "uncertainty"):
        X = read_data(a.data, a.format, a.dims, a.header, a.delimiter)
        d = np.asarray(model.means_).shape[1]
        if X.shape[1] != d:
            raise Fail(EXIT_INPUT, f"the model has {d} feature{'s' if d != 1 else ''} "
                       f"({a.model}) but the data have {X.shape[1]} column"
                       f"{'s' if X.shape[1] != 1 else ''} ({a.data})")
    features = a.features
    opts = dict(sample=a.sample, seed=a.seed)
    try:
        if a.kind == "density":
            ax = plot.density(model, X, bins=bins, features=features, **opts)
        elif a.kind == "clusters":
            ax = plot.clusters(model, X, features=features, projection=a.projection, **opts)
        elif a.kind == "uncertainty":
            ax = plot.uncertainty(model, X, features=features, projection=a.projection, **opts)
        elif a.kind == "bic":
            ax = plot.bic(a.table, criterion=a.criterion)
        else:
            ax = plot.convergence(a.log)
    except OSError as e:
        raise Fail(EXIT_INPUT, f"cannot read {e.filename}: {e.strerror or e}") from None
    except ValueError as e:
        raise Fail(EXIT_INPUT, str(e)) from None
    except np.linalg.LinAlgError as e:
        raise Fail(EXIT_INPUT, f"a covariance of the model is not positive definite ({e}) "
                   f"({a.model})") from None
    first = ax.flat[0] if isinstance(ax, np.ndarray) else ax
    if a.title is not None:
        if isinstance(ax, np.ndarray):
            first.figure.suptitle(a.title)
        else:
            ax.set_title(a.title)
    _save(first.figure, a.output, fmt, a.dpi)
    plt.close(first.figure)
    return 0


COMMANDS = {"plot": plot_main}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python3 -m emgmm plot KIND [options]   (python3 -m emgmm plot --help)",
              file=sys.stdout if argv else sys.stderr)
        return 0 if argv else EXIT_USAGE
    cmd = argv[0]
    if cmd not in COMMANDS:
        print(f"emgmm: unknown command '{cmd}' (python3 -m emgmm knows: "
              f"{', '.join(COMMANDS)})", file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[cmd](argv[1:])
    except Fail as e:
        msg = " ".join(str(e).split())  # one line, whatever a file name holds
        print(f"emgmm: {cmd}: {msg}", file=sys.stderr)
        return e.code
    except MemoryError:
        print(f"emgmm: {cmd}: out of memory", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
