"""emgmm.plot — the standard pictures of a fitted Gaussian mixture.

    density(model, X)       1-D: histogram, mixture density and each weighted component;
                            2-D (or a pair of features): contours of the log-density over the points
    clusters(model, X)      points coloured by label, each mean with its 1, 2, 3 sd ellipses
    uncertainty(model, X)   points sized and shaded by 1 - max responsibility
    bic(table)              BIC (or AIC) against K, one line per covariance type, the best marked
    convergence(source)     the lower bound per iteration, restarts and reseeds marked

Every function takes ``ax=None`` (draws on that Axes, or on a new figure), passes extra keyword
arguments to its main artist and returns the Axes (``clusters(..., projection="grid")`` returns
the grid's array of Axes).  ``model`` is anything with scikit-learn's fitted attributes
(``weights_``, ``means_``, ``covariances_``, ``covariance_type``) — an emgmm or scikit-learn
``GaussianMixture`` — or the path of an emgmm model file.  Densities and responsibilities are
computed here, in numpy, from those attributes, so a model file is drawn without the C extension.

matplotlib is imported only when a picture is drawn; the module itself needs only numpy.
Data larger than ``sample`` rows (default 20,000) are drawn as a seeded random subsample, and
the figure says so.
"""

import json
import math
import os

import numpy as np

__all__ = ["density", "clusters", "uncertainty", "bic", "convergence", "DEFAULT_SAMPLE"]

DEFAULT_SAMPLE = 20000
_COV_TYPES = ("full", "tied", "diag", "spherical")


# --------------------------------------------------------------------------- matplotlib, lazily

def _pyplot():
    try:
        import matplotlib.pyplot as plt  # headless, matplotlib itself falls back to Agg
    except ImportError as e:  # pragma: no cover - exercised by the CLI test with a blocked import
        raise ImportError("emgmm.plot needs matplotlib, which is not installed "
                          "(Debian: apt-get install python3-matplotlib; pip: matplotlib)") from e
    return plt


def _axes(ax):
    if ax is not None:
        return ax
    plt = _pyplot()
    _, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    return ax


# --------------------------------------------------------------------------- the model

class _ModelFile:
    """A model file's parameters under scikit-learn's attribute names (the fallback reader)."""

    def __init__(self, d, path):
        def field(name):
            if name not in d:
                raise ValueError(f"bad model file: field '{name}' is missing ({path})")
            return d[name]
        if d.get("format") not in ("emgmm-model", "emgmm-checkpoint") and "checkpoint" not in d:
            raise ValueError(f"bad model file: field 'format' must be \"emgmm-model\" ({path})")
        self.covariance_type = field("covariance_type")
        if self.covariance_type not in _COV_TYPES:
            raise ValueError(f"bad model file: field 'covariance_type' must be one of "
                             f"{', '.join(_COV_TYPES)} ({path})")
        try:
            self.weights_ = np.asarray(field("weights"), dtype=float)
            self.means_ = np.asarray(field("means"), dtype=float)
            self.covariances_ = np.asarray(field("covariances"), dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"bad model file: 'weights', 'means' or 'covariances' is not an "
                             f"array of numbers of the right shape ({path})") from None
        K, dd = int(field("n_components")), int(field("n_features"))
        want = {"full": (K, dd, dd), "tied": (dd, dd), "diag": (K, dd), "spherical": (K,)}
        for name, arr, shape in (("weights", self.weights_, (K,)), ("means", self.means_, (K, dd)),
                                 ("covariances", self.covariances_, want[self.covariance_type])):
            if arr.shape != shape:
                raise ValueError(f"bad model file: field '{name}' has shape {arr.shape}, "
                                 f"expected {shape} ({path})")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"bad model file: field '{name}' must hold finite numbers ({path})")
        self.n_components = K
        self.n_features_in_ = dd
        ck = d.get("checkpoint") if isinstance(d.get("checkpoint"), dict) else {}
        if "lower_bounds" in ck:
            self.lower_bounds_ = np.asarray(ck["lower_bounds"], dtype=float)
            self.reseeds_ = [r[0] for r in ck.get("reseeds", [])]


def load_model(path):
    """A model file as an object with scikit-learn's attributes: ``emgmm.load`` when the package
    has it, else a small JSON reader.  Raises ValueError (bad file) or OSError (unreadable)."""
    try:
        from . import load as _load  # the package's reader (validates the whole file)
    except ImportError:
        _load = None
    if _load is not None:
        return _load(os.fspath(path))
    with open(path, "rb") as f:
        try:
            d = json.load(f)
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(f"invalid JSON: {e} ({path})") from None
    if not isinstance(d, dict):
        raise ValueError(f"bad model file: not a JSON object ({path})")
    return _ModelFile(d, path)


def _as_model(model):
    if isinstance(model, (str, os.PathLike)):
        return load_model(model)
    for a in ("weights_", "means_", "covariances_", "covariance_type"):
        if not hasattr(model, a):
            raise ValueError(f"model has no attribute '{a}': pass a fitted GaussianMixture "
                             "or a model file")
    return model


def full_covariances(model):
    """The K d×d covariance matrices of any covariance type (scikit-learn's shapes)."""
    means = np.asarray(model.means_, dtype=float)
    K, d = means.shape
    c = np.asarray(model.covariances_, dtype=float)
    t = model.covariance_type
    if t == "full":
        return c.reshape(K, d, d).copy()
    if t == "tied":
        return np.broadcast_to(c.reshape(d, d), (K, d, d)).copy()
    if t == "diag":
        return np.stack([np.diag(c[k]) for k in range(K)])
    if t == "spherical":
        return c.reshape(K)[:, None, None] * np.eye(d)[None]
    raise ValueError(f"covariance_type must be one of {', '.join(_COV_TYPES)}, got {t!r}")


def _params(model, V=None, center=None):
    """weights, means, full covariances — of the model, or of its image under x -> (x-c) V."""
    w = np.asarray(model.weights_, dtype=float)
    mu = np.asarray(model.means_, dtype=float)
    S = full_covariances(model)
    if V is not None:
        c = np.zeros(mu.shape[1]) if center is None else center
        mu = (mu - c) @ V
        S = np.einsum("ia,kij,jb->kab", V, S, V)
    return w, mu, S


def _log_gauss(X, mu, S):
    """log N(x | mu_k, S_k) for every row and component: n×K."""
    n, d = X.shape
    out = np.empty((n, len(mu)))
    for k in range(len(mu)):
        L = np.linalg.cholesky(S[k])
        z = np.linalg.solve(L, (X - mu[k]).T)
        out[:, k] = (-0.5 * np.sum(z * z, axis=0) - np.sum(np.log(np.diag(L)))
                     - 0.5 * d * math.log(2 * math.pi))
    return out


def _log_joint(X, w, mu, S):
    with np.errstate(divide="ignore"):
        return _log_gauss(X, mu, S) + np.log(w)


def _logsumexp(a):
    m = np.max(a, axis=1, keepdims=True)
    m[~np.isfinite(m)] = 0.0
    return (m + np.log(np.sum(np.exp(a - m), axis=1, keepdims=True)))[:, 0]


def _responsibilities(X, w, mu, S):
    lj = _log_joint(X, w, mu, S)
    return np.exp(lj - _logsumexp(lj)[:, None])


# --------------------------------------------------------------------------- the data

def subsample(X, sample=DEFAULT_SAMPLE, seed=0):
    """(rows, note): at most ``sample`` rows of X, a seeded random choice kept in file order when
    X is larger (``sample=None`` or 0 keeps all), and the sentence that says so (or None).
    Only the chosen rows are read, so X may be a memory-mapped file of any size."""
    n = len(X)
    if not sample or n <= sample:
        return X, None
    idx = np.sort(np.random.default_rng(seed).choice(n, size=int(sample), replace=False))
    return X[idx], f"random subsample of {int(sample):,} of {n:,} points (seed {seed})"


def _data(X, model, sample, seed):
    """The rows to draw as a float n×d array, and the subsample note."""
    if not hasattr(X, "shape"):
        X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2:
        raise ValueError(f"X must be 1-D or 2-D, got {X.ndim} dimensions")
    d = np.asarray(model.means_).shape[1]
    if X.shape[1] != d:
        raise ValueError(f"the model has {d} feature{'s' if d != 1 else ''} but the data "
                         f"have {X.shape[1]} column{'s' if X.shape[1] != 1 else ''}")
    X, note = subsample(X, sample, seed)
    X = np.asarray(X, dtype=float)
    if not np.all(np.isfinite(X)):
        r, c = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"the data hold a non-finite value (drawn row {r}, column {c})")
    return X, note


def _note(ax, note):
    if note:
        ax.text(0.99, 0.01, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=7,
                color="0.3", gid="emgmm-subsample-note")


def _parse_features(features, d):
    if features is None:
        return None
    if isinstance(features, str):
        try:
            features = [int(f) for f in features.split(",")]
        except ValueError:
            raise ValueError(f"features: expected two column numbers like 0,2, got {features!r}") \
                from None
    features = tuple(int(f) for f in features)
    if len(features) != 2 or features[0] == features[1]:
        raise ValueError(f"features: expected two different column numbers, got {features}")
    for f in features:
        if not 0 <= f < d:
            raise ValueError(f"features: column {f} is out of range for {d} features "
                             f"(counting from 0)")
    return features


def _view(model, X, features, projection):
    """The 2-D picture of d-dimensional data: (V, center, points, axis names, title part).

    d = 2: the data as they are.  ``features=(i, j)``: that pair (the mixture's marginal).
    Otherwise ``projection='pca'``: the data's first two principal axes (the mixture mapped
    exactly, as a linear image of Gaussians is Gaussian)."""
    d = np.asarray(model.means_).shape[1]
    feats = _parse_features(features, d)
    if feats is None and d == 2:
        feats = (0, 1)
    if feats is not None and projection in (None, "pair"):
        V = np.zeros((d, 2))
        V[feats[0], 0] = V[feats[1], 1] = 1.0
        title = "" if d == 2 else f"features {feats[0]} and {feats[1]} (marginal)"
        return V, None, (None if X is None else X[:, list(feats)]), \
            (f"feature {feats[0]}", f"feature {feats[1]}"), title
    if projection in (None, "pca"):
        if X is None:
            raise ValueError("a PCA projection needs the data")
        c = X.mean(axis=0)
        _, _, vt = np.linalg.svd(X - c, full_matrices=False)
        V = vt[:2].T.copy()
        for j in range(2):  # a fixed sign: the largest loading positive
            if V[np.argmax(np.abs(V[:, j])), j] < 0:
                V[:, j] = -V[:, j]
        return V, c, (X - c) @ V, ("principal axis 1", "principal axis 2"), \
            "projected on the data's first two principal axes"
    if projection == "pair":
        raise ValueError(f"projection 'pair' needs features=(i, j) for {d}-D data")
    raise ValueError(f"projection must be 'pair', 'pca' or 'grid', got {projection!r}")


# --------------------------------------------------------------------------- ellipses

def ellipse_geometry(S2, n_std):
    """(width, height, angle in degrees) of the n_std ellipse of a 2×2 covariance: axes along
    its eigenvectors, full lengths 2·n_std·sqrt(eigenvalue), angle of the major axis."""
    vals, vecs = np.linalg.eigh(np.asarray(S2, dtype=float))
    vals = np.clip(vals, 0.0, None)
    major = vecs[:, 1]
    angle = math.degrees(math.atan2(major[1], major[0]))
    return 2 * n_std * math.sqrt(vals[1]), 2 * n_std * math.sqrt(vals[0]), angle


def _draw_ellipses(ax, mu2, S2, colors, n_std=(1, 2, 3), **kw):
    from matplotlib.patches import Ellipse
    for k in range(len(mu2)):
        for j, s in enumerate(n_std):
            wd, ht, ang = ellipse_geometry(S2[k], s)
            e = Ellipse(xy=tuple(mu2[k]), width=wd, height=ht, angle=ang, fill=False,
                        edgecolor=colors[k], lw=kw.get("lw", 1.6 - 0.4 * j),
                        alpha=kw.get("alpha", 0.9 - 0.2 * j), gid=f"emgmm-ellipse-{k}-{s}")
            ax.add_patch(e)
        ax.plot([mu2[k, 0]], [mu2[k, 1]], marker="X", ms=9, mec="black", mfc=colors[k],
                ls="none", gid=f"emgmm-mean-{k}")


def _colors(K):
    plt = _pyplot()
    cmap = plt.get_cmap("tab10" if K <= 10 else "tab20")
    return [cmap(k % cmap.N) for k in range(K)]


# --------------------------------------------------------------------------- density

def density(model, X=None, ax=None, *, bins="auto", n_points=1000, components=True,
            features=None, levels=12, sample=DEFAULT_SAMPLE, seed=0, **kwargs):
    """The fitted density.  1-D: the data's histogram (when X is given), the mixture density and
    each weighted component density, over a range holding the data and every component's mean
    ± 4 sd, so the drawn curve integrates to 1 over the axis.  2-D (or ``features=(i, j)`` of
    d-D data, the mixture's marginal): contours of the log-density over the points.
    kwargs go to the mixture curve (1-D) or the contour set (2-D).  Returns the Axes."""
    model = _as_model(model)
    d = np.asarray(model.means_).shape[1]
    note = None
    if X is not None:
        X, note = _data(X, model, sample, seed)
    ax = _axes(ax)
    if d == 1:
        w, mu, S = _params(model)
        sd = np.sqrt(S[:, 0, 0])
        lo, hi = float(np.min(mu[:, 0] - 4 * sd)), float(np.max(mu[:, 0] + 4 * sd))
        if X is not None:
            lo, hi = min(lo, float(X.min())), max(hi, float(X.max()))
        x = np.linspace(lo, hi, int(n_points))
        lg = _log_joint(x[:, None], w, mu, S)
        if X is not None:
            ax.hist(X[:, 0], bins=bins, density=True, color="0.82", edgecolor="0.65",
                    label="data", gid="emgmm-histogram")
        if components:
            cols = _colors(len(w))
            for k in range(len(w)):
                ax.plot(x, np.exp(lg[:, k]), ls="--", lw=1.3, color=cols[k],
                        label=f"component {k} (w={w[k]:.2f})", gid=f"emgmm-component-{k}")
        kw = {"color": "black", "lw": 2.0, "label": "mixture density"}
        kw.update(kwargs)
        ax.plot(x, np.exp(_logsumexp(lg)), gid="emgmm-density", **kw)
        ax.set_xlim(lo, hi)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.set_title(f"Mixture density, K = {len(w)}")
        ax.legend(fontsize=8)
    else:
        feats = _parse_features(features, d)
        if feats is None:
            if d != 2:
                raise ValueError(f"the density of {d}-D data is drawn for a pair of features: "
                                 "give features=(i, j)")
            feats = (0, 1)
        V, _, P, names, tpart = _view(model, X, feats, "pair")
        w, mu, S = _params(model, V)
        if P is not None:
            los, his = P.min(axis=0), P.max(axis=0)
        else:
            sd = np.sqrt(np.einsum("kii->ki", S))
            los, his = (mu - 3 * sd).min(axis=0), (mu + 3 * sd).max(axis=0)
        pad = 0.05 * (his - los)
        gx = np.linspace(los[0] - pad[0], his[0] + pad[0], 200)
        gy = np.linspace(los[1] - pad[1], his[1] + pad[1], 200)
        xx, yy = np.meshgrid(gx, gy)
        zz = _logsumexp(_log_joint(np.column_stack([xx.ravel(), yy.ravel()]), w, mu, S))
        zz = zz.reshape(xx.shape)
        if P is not None:
            ax.scatter(P[:, 0], P[:, 1], s=4, c="0.55", alpha=0.5, linewidths=0,
                       gid="emgmm-points", rasterized=len(P) > 5000)
        top = float(zz.max())
        lv = np.linspace(top - 12.0, top, int(levels)) if np.isscalar(levels) else levels
        kw = {"cmap": "viridis", "levels": lv}
        kw.update(kwargs)
        cs = ax.contour(xx, yy, zz, **kw)
        for lev, coll in zip(cs.levels, getattr(cs, "collections", [])):
            coll.set_gid(f"emgmm-contour {float(lev)!r}")  # matplotlib < 3.8: one per level
        ax.figure.colorbar(cs, ax=ax, label="log density")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title(f"Log-density contours, K = {len(w)}" + (f"\n{tpart}" if tpart else ""))
    _note(ax, note)
    return ax


# --------------------------------------------------------------------------- clusters

def _pairs_grid(model, X, n_std, max_features, note, kwargs):
    plt = _pyplot()
    d = X.shape[1]
    m = min(d, max_features)
    fig, axs = plt.subplots(m, m, figsize=(2.6 * m, 2.6 * m), squeeze=False,
                            layout="constrained")
    w = np.asarray(model.weights_, dtype=float)
    cols = _colors(len(w))
    _, mu, S = _params(model)
    labels = np.argmax(_log_joint(X, w, mu, S), axis=1)
    for i in range(m):
        for j in range(m):
            a = axs[i, j]
            if i == j:
                for k in range(len(w)):
                    a.hist(X[labels == k, i], bins=30, color=cols[k], alpha=0.6)
            else:
                idx = [j, i]
                a.scatter(X[:, j], X[:, i], c=[cols[k] for k in labels], s=3, alpha=0.5,
                          linewidths=0, rasterized=len(X) > 5000, **kwargs)
                _draw_ellipses(a, mu[:, idx], S[:, idx][:, :, idx], cols, n_std)
            if i == m - 1:
                a.set_xlabel(f"feature {j}")
            if j == 0:
                a.set_ylabel(f"feature {i}")
    fig.suptitle(f"Clusters, K = {len(w)}: pairs of the first {m} of {d} features"
                 + (f"\n{note}" if note else ""))
    return axs


def clusters(model, X, ax=None, *, features=None, projection=None, n_std=(1, 2, 3),
             max_features=4, sample=DEFAULT_SAMPLE, seed=0, **kwargs):
    """Points coloured by their most probable component, each mean with its n_std (1, 2, 3)
    standard-deviation ellipses from the eigen-decomposition of the component's covariance.
    d > 2: ``features=(i, j)`` draws that pair (the marginal mixture); ``projection='pca'``
    (the default then) the data on their first two principal axes; ``projection='grid'`` a
    pairs grid of the first ``max_features`` features on a new figure (returns its Axes array).
    1-D data: the points along x (jittered), each mean with its ±1, 2, 3 sd intervals.
    kwargs go to the scatter.  Returns the Axes."""
    model = _as_model(model)
    X, note = _data(X, model, sample, seed)
    d = X.shape[1]
    if projection == "grid":
        if ax is not None:
            raise ValueError("projection='grid' draws its own figure: leave ax=None")
        if d < 2:
            raise ValueError("projection='grid' needs at least 2 features")
        return _pairs_grid(model, X, n_std, max_features, note, kwargs)
    w = np.asarray(model.weights_, dtype=float)
    cols = _colors(len(w))
    _, mu_full, S_full = _params(model)
    labels = np.argmax(_log_joint(X, w, mu_full, S_full), axis=1)
    ax = _axes(ax)
    kw = {"s": 6, "alpha": 0.6, "linewidths": 0, "rasterized": len(X) > 5000}
    kw.update(kwargs)
    if d == 1:
        y = np.random.default_rng(seed).uniform(-1, 1, len(X))
        ax.scatter(X[:, 0], y, c=[cols[k] for k in labels], gid="emgmm-points", **kw)
        for k in range(len(w)):
            sd = math.sqrt(S_full[k, 0, 0])
            for s in n_std:
                ax.plot([mu_full[k, 0] - s * sd, mu_full[k, 0] + s * sd], [1.2 + 0.15 * k] * 2,
                        color=cols[k], lw=3.5 - s, gid=f"emgmm-interval-{k}-{s}")
            ax.plot([mu_full[k, 0]], [1.2 + 0.15 * k], marker="X", ms=9, mec="black",
                    mfc=cols[k], ls="none", gid=f"emgmm-mean-{k}")
        ax.set_yticks([])
        ax.set_xlabel("x")
        ax.set_title(f"Clusters, K = {len(w)}: points by label, mean ± 1, 2, 3 sd")
    else:
        V, c, P, names, tpart = _view(model, X, features, projection)
        _, mu, S = _params(model, V, c)
        ax.scatter(P[:, 0], P[:, 1], c=[cols[k] for k in labels], gid="emgmm-points", **kw)
        _draw_ellipses(ax, mu, S, cols, n_std)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title(f"Clusters, K = {len(w)}: {', '.join(str(s) for s in n_std)} sd ellipses"
                     + (f"\n{tpart}" if tpart else ""))
        ax.autoscale_view()
    _note(ax, note)
    return ax


# --------------------------------------------------------------------------- uncertainty

def uncertainty(model, X, ax=None, *, features=None, projection=None, sample=DEFAULT_SAMPLE,
                seed=0, **kwargs):
    """Each point sized and shaded by its uncertainty 1 − max_k responsibility, so the ambiguous
    region between components shows; the 1 sd ellipses for orientation (2-D views chosen as in
    ``clusters``).  1-D data: the uncertainty against x.  kwargs go to the scatter.
    Returns the Axes."""
    model = _as_model(model)
    X, note = _data(X, model, sample, seed)
    w, mu_full, S_full = _params(model)
    u = 1.0 - _responsibilities(X, w, mu_full, S_full).max(axis=1)
    umax = max(1.0 - 1.0 / len(w), 1e-12)
    ax = _axes(ax)
    order = np.argsort(u)  # the uncertain points drawn last, on top
    kw = {"cmap": "magma_r", "vmin": 0.0, "vmax": umax, "linewidths": 0,
          "rasterized": len(X) > 5000}
    kw.update(kwargs)
    sizes = 2 + 60 * (u[order] / umax)
    if X.shape[1] == 1:
        sc = ax.scatter(X[order, 0], u[order], c=u[order], s=sizes, gid="emgmm-uncertainty",
                        **kw)
        ax.set_xlabel("x")
        ax.set_ylabel("1 − max responsibility")
        ax.set_title(f"Uncertainty, K = {len(w)}")
    else:
        V, c, P, names, tpart = _view(model, X, features, projection)
        _, mu, S = _params(model, V, c)
        sc = ax.scatter(P[order, 0], P[order, 1], c=u[order], s=sizes, gid="emgmm-uncertainty",
                        **kw)
        _draw_ellipses(ax, mu, S, ["0.35"] * len(w), (1,), lw=1.0, alpha=0.8)
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.set_title(f"Uncertainty (1 − max responsibility), K = {len(w)}"
                     + (f"\n{tpart}" if tpart else ""))
        ax.autoscale_view()
    ax.figure.colorbar(sc, ax=ax, label="1 − max responsibility")
    _note(ax, note)
    return ax


# --------------------------------------------------------------------------- bic

def _csv_table(path):
    import csv
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    delim = "\t" if str(path).endswith(".tsv") or ("\t" in text.split("\n", 1)[0]) else ","
    rows = list(csv.DictReader(text.splitlines(), delimiter=delim))
    if not rows or "k" not in rows[0] or "covariance_type" not in rows[0]:
        raise ValueError(f"not an emgmm select table: no 'k' and 'covariance_type' columns "
                         f"({path})")
    return rows


def read_table(table):
    """The rows of a select table as dicts (k, covariance_type, status, bic, aic, best, ...):
    emgmm.select's columns n_components and rank are read as k and best (rank 1).
    from a file (``emgmm select --table``: CSV, TSV or JSON), the JSON object, ``emgmm.select``'s
    result (a (table, best) pair, a list of dicts, a dict of columns or a numpy record array)."""
    path = None
    if isinstance(table, (str, os.PathLike)):
        path = os.fspath(table)
        if path.endswith(".json"):
            with open(path, encoding="utf-8") as f:
                try:
                    table = json.load(f)
                except ValueError as e:
                    raise ValueError(f"invalid JSON: {e} ({path})") from None
        else:
            table = _csv_table(path)
    if isinstance(table, tuple) and len(table) == 2:
        table = table[0]
    if hasattr(table, "to_dict"):  # a pandas DataFrame
        table = table.to_dict("records")
    if isinstance(table, dict) and "fits" in table:
        best = table.get("best") or {}
        rows = [dict(r) for r in table["fits"]]
        for r in rows:
            r.setdefault("best", int(r.get("k") == best.get("k") and
                                     r.get("covariance_type") == best.get("covariance_type")))
        table = rows
    elif isinstance(table, dict):
        keys = list(table)
        n = len(table[keys[0]]) if keys else 0
        table = [{key: table[key][i] for key in keys} for i in range(n)]
    elif hasattr(table, "dtype") and getattr(table.dtype, "names", None):
        table = [{nm: r[nm] for nm in table.dtype.names} for r in table]
    rows = []
    for r in table:
        r = dict(r)
        if "k" not in r and "n_components" in r:  # emgmm.select's names
            r["k"] = r["n_components"]
        if "best" not in r and "rank" in r:
            r["best"] = int(_num(r["rank"]) == 1)
        if "status" not in r and "error" in r:
            err = r["error"]
            r["status"] = "ok" if err is None or err == "" or (isinstance(err, float) and
                                                               math.isnan(err)) else "failed"
        if "k" not in r or "covariance_type" not in r:
            raise ValueError("not a select table: each row needs 'k' and 'covariance_type'"
                             + (f" ({path})" if path else ""))
        rows.append(dict(r))
    return rows


def _num(v):
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _flag(v):
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes")
    return bool(v)


def bic(table, ax=None, *, criterion="bic", **kwargs):
    """BIC (or ``criterion='aic'``) against K, one line per covariance type, from a select table
    (``emgmm.select``'s or ``emgmm select --table``'s; lower is better, scikit-learn's sign), the
    best fit marked: the table's ``best`` row when it has one, else the lowest criterion.
    Failed fits are left out.  kwargs go to each line.  Returns the Axes."""
    crit = criterion.lower()
    if crit not in ("bic", "aic"):
        raise ValueError(f"criterion must be 'bic' or 'aic', got {criterion!r}")
    rows = read_table(table)
    ok = [r for r in rows if str(r.get("status", "ok")) == "ok" and math.isfinite(_num(r.get(crit)))]
    if not ok:
        raise ValueError("the select table has no successful fit to draw")
    ax = _axes(ax)
    types = []
    for r in ok:
        if r["covariance_type"] not in types:
            types.append(r["covariance_type"])
    markers = {"full": "o", "tied": "s", "diag": "^", "spherical": "D"}
    for t in types:
        pts = sorted((int(_num(r["k"])), _num(r[crit])) for r in ok if r["covariance_type"] == t)
        kw = {"marker": markers.get(t, "o"), "ms": 5, "lw": 1.5, "label": t}
        kw.update(kwargs)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], gid=f"emgmm-{crit}-{t}", **kw)
    # The table's best row (picked by the criterion the sweep ran with) when it is also the
    # lowest of the criterion drawn; else the lowest.
    low = min(_num(r[crit]) for r in ok)
    marked = [r for r in ok if _flag(r.get("best", 0)) and _num(r[crit]) == low]
    best = marked[0] if marked else min(ok, key=lambda r: _num(r[crit]))
    bk, bv = int(_num(best["k"])), _num(best[crit])
    ax.plot([bk], [bv], marker="*", ms=18, mfc="gold", mec="black", ls="none",
            label=f"best: K = {bk}, {best['covariance_type']}", gid="emgmm-best", zorder=5)
    ax.set_xlabel("K (components)")
    ax.set_ylabel(f"{crit.upper()} (lower is better)")
    ax.set_title(f"{crit.upper()} against K")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    return ax


# --------------------------------------------------------------------------- convergence

def read_log(path):
    """A ``emgmm fit --log`` file (JSON lines) as runs: a list of dicts with ``lower_bounds``
    (per iteration, in order), ``iters`` and ``reseeds`` (the iterations that reseeded).  A new
    run starts at each ``start`` event (a log appended by several fits, or a resumed fit).
    A checkpoint file (one JSON object with ``checkpoint.lower_bounds``) is read as one run."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" not in stripped:
        try:
            obj = json.loads(stripped)
        except ValueError:
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("checkpoint"), dict):
            ck = obj["checkpoint"]
            lb = [float(v) for v in ck.get("lower_bounds", [])]
            return [{"lower_bounds": lb, "iters": list(range(1, len(lb) + 1)),
                     "reseeds": [int(r[0]) for r in ck.get("reseeds", [])]}]
    runs, cur = [], None
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError as e:
            raise ValueError(f"not a JSON-lines fit log: {e} ({path}:{i})") from None
        if not isinstance(ev, dict) or "event" not in ev:
            raise ValueError(f"not a fit log: line {i} has no 'event' ({path}:{i})")
        kind = ev["event"]
        if kind == "start" or cur is None:
            cur = {"lower_bounds": [], "iters": [], "reseeds": [], "n_init": 1}
            runs.append(cur)
        if kind == "start" and isinstance(ev.get("n_init"), int):
            cur["n_init"] = ev["n_init"]
        if kind == "iteration" and ev.get("lower_bound") is not None:
            cur["iters"].append(int(ev["iter"]))
            cur["lower_bounds"].append(float(ev["lower_bound"]))
        elif kind == "reseed":
            cur["reseeds"].append(int(ev["iter"]))
    runs = [r for r in runs if r["lower_bounds"]]
    if not runs:
        raise ValueError(f"the fit log has no iteration events ({path})")
    return runs


def convergence(source, ax=None, *, restarts=None, reseeds=None, **kwargs):
    """The lower bound (mean log-likelihood per sample) per EM iteration.

    ``source``: a fitted model (its ``lower_bounds_``; an emgmm estimator's other initialisations
    from ``restart_lower_bounds_`` are drawn as restarts), a ``emgmm fit --log`` file or checkpoint
    (see ``read_log``), or a sequence of lower bounds.  ``restarts``: the lower bounds of other
    initialisations (a list of sequences), drawn thin beside the kept run, drawn bold (a log
    holding several fits draws the earlier ones so).  When only the kept run of ``n_init`` > 1
    is known (the log's ``start`` event, the model's ``n_init``), the title says so.  Reseeds
    (``reseeds``: iterations; or the log's ``reseed`` events) are marked by red triangles.
    kwargs go to the kept run's line.  Returns the Axes."""
    n_init = 1
    if isinstance(source, (str, os.PathLike)):
        runs = read_log(source)
        kept = runs[-1]
        lb, iters = np.asarray(kept["lower_bounds"]), np.asarray(kept["iters"])
        rs = kept["reseeds"] if reseeds is None else [int(r) for r in np.ravel(reseeds)]
        n_init = kept.get("n_init", 1)
        others = [np.asarray(r["lower_bounds"]) for r in runs[:-1]]
        other_label = "earlier fits in the log"
        if restarts is not None:
            others += [np.asarray(r, dtype=float).ravel() for r in restarts]
            other_label = "other runs"
    else:
        if hasattr(source, "lower_bounds_"):
            lb = np.asarray(source.lower_bounds_, dtype=float).ravel()
            n = getattr(source, "n_init", 1)
            n_init = n if isinstance(n, int) else 1
            # an emgmm estimator records every initialisation (restart_lower_bounds_)
            if restarts is None and getattr(source, "restart_lower_bounds_", None) is not None:
                best = getattr(source, "best_init_", None)
                restarts = [r for i, r in enumerate(source.restart_lower_bounds_) if i != best]
        elif hasattr(source, "means_"):
            raise ValueError("the model has no lower_bounds_ (a per-iteration history): pass "
                             "an emgmm GaussianMixture, a fit log or the lower bounds")
        else:
            lb = np.asarray(source, dtype=float).ravel()
        iters = np.arange(1, lb.size + 1)
        rs = [] if reseeds is None else [int(r) for r in np.ravel(reseeds)]
        others = [] if restarts is None else [np.asarray(r, dtype=float).ravel()
                                              for r in restarts]
        # the kept run is drawn bold below; drop its copy from the restarts
        others = [r for r in others if not (r.shape == lb.shape and np.array_equal(r, lb))]
        other_label = "other initialisations"
    if lb.size == 0:
        raise ValueError("no lower bounds to draw")
    ax = _axes(ax)
    for i, r in enumerate(others):
        ax.plot(np.arange(1, r.size + 1), r, lw=1.0, alpha=0.6, marker=".", ms=3,
                label=other_label if i == 0 else None, gid=f"emgmm-restart-{i}")
    kw = {"color": "black", "lw": 2.0, "marker": "o", "ms": 3,
          "label": "kept run" if others else "lower bound"}
    kw.update(kwargs)
    ax.plot(iters, lb, gid="emgmm-lower-bound", **kw)
    pos = {int(it): j for j, it in enumerate(iters)}
    rs = [r for r in rs if r in pos]
    if rs:
        ax.plot(rs, [lb[pos[r]] for r in rs], marker="v", ms=10, color="red", ls="none",
                label="component reseeded", gid="emgmm-reseeds", zorder=5)
    ax.set_xlabel("EM iteration")
    ax.set_ylabel("lower bound (mean log-lik. per sample)")
    title = f"Convergence: {len(lb)} iterations"
    if others:
        title += f", {1 + len(others)} runs"
    elif n_init > 1:
        title += f"\nthe kept run of n_init = {n_init} initialisations (the others not recorded)"
    ax.set_title(title)
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if others or rs:
        ax.legend(fontsize=8)
    return ax
