"""emgmm.plot: what is drawn, not pixels (headless, Agg).

References are independent of the plotting code: scikit-learn's GaussianMixture (its
score_samples, predict, predict_proba and covariances_), numpy's eigh on covariance matrices
built here from scikit-learn's shapes, and select tables / fit logs written here or by the CLI.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGM  # noqa: E402

from emgmm import plot  # noqa: E402

COV_TYPES = ("full", "tied", "diag", "spherical")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def demo_data(seed=20260101):
    """The demo's shape: 4,000 points from N(20, 5²) and 8,000 from N(40, 5²)."""
    r = np.random.default_rng(seed)
    return np.concatenate([r.normal(20, 5, 4000), r.normal(40, 5, 8000)])[:, None]


def blobs2(seed=7, n=(500, 300, 200)):
    r = np.random.default_rng(seed)
    return np.vstack([r.multivariate_normal([0, 0], [[1.0, 0.6], [0.6, 1.0]], n[0]),
                      r.multivariate_normal([4.5, 2.0], [[0.5, -0.2], [-0.2, 2.0]], n[1]),
                      r.multivariate_normal([-1.0, 5.0], [[2.385, 0.0], [0.0, 0.3]], n[2])])


def full_covs(g):
    """The K d×d covariances from scikit-learn's attribute shapes (written independently)."""
    K, d = g.means_.shape
    c = np.asarray(g.covariances_)
    if g.covariance_type == "full":
        return c
    if g.covariance_type == "tied":
        return np.array([c] * K)
    if g.covariance_type == "diag":
        return np.array([np.diag(v) for v in c])
    return np.array([v * np.eye(d) for v in c])


def by_gid(ax, gid, kind="lines"):
    found = [a for a in getattr(ax, kind) if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def emgmm_models():
    """The package's own estimator, when its C extension is built."""
    try:
        from emgmm import GaussianMixture
    except ImportError:
        return None
    return GaussianMixture


# --------------------------------------------------------------------------- density

@pytest.mark.parametrize("engine", ["sklearn", "emgmm"])
def test_density_1d_integrates_to_one_and_matches_score_samples(engine):
    X = demo_data()
    if engine == "sklearn":
        g = SkGM(2, random_state=0).fit(X)
    else:
        GM = emgmm_models()
        if GM is None:
            pytest.skip("emgmm's C extension is not built")
        g = GM(2, random_state=0).fit(X)
    ax = plot.density(g, X)
    line = by_gid(ax, "emgmm-density")
    x, y = line.get_xdata(), line.get_ydata()
    lo, hi = ax.get_xlim()
    assert x[0] <= lo and x[-1] >= hi  # the curve spans the axis
    assert abs(np.trapz(y, x) - 1.0) < 1e-3
    np.testing.assert_allclose(y, np.exp(g.score_samples(x[:, None])), rtol=1e-9, atol=1e-300)
    # each weighted component density; together they are the mixture
    comps = [by_gid(ax, f"emgmm-component-{k}").get_ydata() for k in range(2)]
    for k in range(2):
        mu, var = g.means_[k, 0], full_covs(g)[k, 0, 0]
        want = g.weights_[k] * np.exp(-0.5 * (x - mu) ** 2 / var) / math.sqrt(2 * math.pi * var)
        np.testing.assert_allclose(comps[k], want, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(comps[0] + comps[1], y, rtol=1e-12)
    # the histogram is a density over all 12,000 points (under the default subsample size)
    bars = [p for p in ax.patches if p.get_gid() == "emgmm-histogram"] or ax.patches
    area = sum(p.get_width() * p.get_height() for p in bars)
    assert abs(area - 1.0) < 1e-9
    assert not [t for t in ax.texts if t.get_gid() == "emgmm-subsample-note"]


def test_density_1d_peaks_where_the_demo_puts_them():
    g = SkGM(2, random_state=0).fit(demo_data())
    ax = plot.density(g, demo_data())
    line = by_gid(ax, "emgmm-density")
    x, y = line.get_xdata(), line.get_ydata()
    # local maxima of the drawn curve near 20 and 40, a minimum between
    i = np.where((y[1:-1] > y[:-2]) & (y[1:-1] > y[2:]))[0] + 1
    assert len(i) == 2
    assert abs(x[i[0]] - 20) < 1.0 and abs(x[i[1]] - 40) < 1.0


def test_density_without_data_and_from_a_model_file(tmp_path):
    g = SkGM(2, random_state=0).fit(demo_data())
    path = tmp_path / "m.json"
    write_model(path, g)
    ax = plot.density(str(path))
    line = by_gid(ax, "emgmm-density")
    x, y = line.get_xdata(), line.get_ydata()
    assert abs(np.trapz(y, x) - 1.0) < 1e-3
    np.testing.assert_allclose(y, np.exp(g.score_samples(x[:, None])), rtol=1e-9, atol=1e-300)


def test_density_2d_contours_lie_on_their_log_density_level():
    X = blobs2()
    g = SkGM(3, random_state=0).fit(X)
    ax = plot.density(g, X)
    contours = [c for c in ax.collections if str(c.get_gid()).startswith("emgmm-contour ")]
    if not contours:
        pytest.skip("this matplotlib draws contours as one collection (>= 3.8)")
    checked = 0
    for c in contours:
        level = float(c.get_gid().split(" ", 1)[1])
        for path in c.get_paths():
            v = path.vertices
            if len(v) == 0:
                continue
            s = g.score_samples(v)
            # marching squares interpolates linearly between grid nodes 1/200 of the range
            # apart: the error is second order in the spacing, far under 0.05 here
            assert np.max(np.abs(s - level)) < 0.05, (level, np.max(np.abs(s - level)))
            checked += len(v)
    assert checked > 100


def test_density_pair_of_features_is_the_marginal():
    r = np.random.default_rng(3)
    X = np.hstack([blobs2(), r.normal(size=(1000, 1))])
    g = SkGM(3, random_state=0).fit(X)
    ax = plot.density(g, X, features=(0, 2))
    assert "features 0 and 2" in ax.get_title()
    contours = [c for c in ax.collections if str(c.get_gid()).startswith("emgmm-contour ")]
    if not contours:
        pytest.skip("matplotlib >= 3.8")
    # the marginal of features 0, 2 as its own scikit-learn mixture
    m = SkGM(3, covariance_type="full")
    m.weights_, m.means_ = g.weights_, g.means_[:, [0, 2]]
    m.covariances_ = g.covariances_[:, [0, 2]][:, :, [0, 2]]
    m.precisions_cholesky_ = np.array([np.linalg.cholesky(np.linalg.inv(c))
                                       for c in m.covariances_])
    for c in contours:
        level = float(c.get_gid().split(" ", 1)[1])
        for path in c.get_paths():
            if len(path.vertices):
                assert np.max(np.abs(m.score_samples(path.vertices) - level)) < 0.05


# --------------------------------------------------------------------------- clusters

def check_ellipses(ax, means2, covs2, n_std=(1, 2, 3)):
    for k in range(len(means2)):
        S = covs2[k]
        vals, vecs = np.linalg.eigh(S)
        for s in n_std:
            e = by_gid(ax, f"emgmm-ellipse-{k}-{s}", "patches")
            np.testing.assert_allclose(e.center, means2[k], rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(e.width, 2 * s * math.sqrt(vals[1]), rtol=1e-10)
            np.testing.assert_allclose(e.height, 2 * s * math.sqrt(vals[0]), rtol=1e-10)
            if vals[1] - vals[0] > 1e-9 * vals[1]:  # a circle has no angle
                a = math.radians(e.angle)
                major = vecs[:, 1]
                assert abs(math.cos(a) * major[1] - math.sin(a) * major[0]) < 1e-9
            # and, independently of any convention: the patch maps the unit circle (its path)
            # onto points at Mahalanobis distance s from the mean under S
            t = np.linspace(0, 2 * math.pi, 64)
            pts = e.get_patch_transform().transform(np.column_stack([np.cos(t), np.sin(t)]))
            dlt = pts - means2[k]
            m2 = np.einsum("ij,jk,ik->i", dlt, np.linalg.inv(S), dlt)
            np.testing.assert_allclose(m2, s * s, rtol=1e-9)
        mean_line = by_gid(ax, f"emgmm-mean-{k}")
        np.testing.assert_allclose([mean_line.get_xdata()[0], mean_line.get_ydata()[0]],
                                   means2[k], rtol=1e-12)


@pytest.mark.parametrize("cov", COV_TYPES)
def test_cluster_ellipses_match_the_eigen_decomposition(cov):
    X = blobs2()
    g = SkGM(3, covariance_type=cov, random_state=0).fit(X)
    ax = plot.clusters(g, X)
    check_ellipses(ax, g.means_, full_covs(g))
    if cov == "diag":  # axis-aligned
        for k in range(3):
            assert by_gid(ax, f"emgmm-ellipse-{k}-1", "patches").angle % 90 == pytest.approx(0)
    # the points are the data, coloured by scikit-learn's labels
    pts = by_gid(ax, "emgmm-points", "collections")
    np.testing.assert_array_equal(pts.get_offsets(), X)
    colors = pts.get_facecolors()
    labels = g.predict(X)
    for k in range(3):
        assert len(np.unique(colors[labels == k], axis=0)) == 1
    assert len(np.unique(colors, axis=0)) == len(np.unique(labels))


@pytest.mark.parametrize("cov", COV_TYPES)
def test_cluster_ellipses_of_a_chosen_pair_are_the_marginal(cov):
    r = np.random.default_rng(5)
    X = np.hstack([blobs2(), r.normal(size=(1000, 2)) @ np.array([[1.0, 0.4], [0.0, 0.7]])])
    g = SkGM(3, covariance_type=cov, random_state=0).fit(X)
    ax = plot.clusters(g, X, features=(3, 1))
    assert "features 3 and 1" in ax.get_title()
    S = full_covs(g)[:, [3, 1]][:, :, [3, 1]]
    check_ellipses(ax, g.means_[:, [3, 1]], S)
    np.testing.assert_array_equal(by_gid(ax, "emgmm-points", "collections").get_offsets(),
                                  X[:, [3, 1]])


def test_clusters_pca_projection_maps_points_and_ellipses_alike():
    r = np.random.default_rng(9)
    X = np.hstack([blobs2(), r.normal(size=(1000, 2))])
    g = SkGM(3, random_state=0).fit(X)
    ax = plot.clusters(g, X)
    assert "principal axes" in ax.get_title()
    c = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - c, full_matrices=False)
    V = vt[:2].T
    P = np.asarray(by_gid(ax, "emgmm-points", "collections").get_offsets())
    flip = np.sign(np.sum(P * ((X - c) @ V), axis=0))  # an axis' sign is a convention
    V = V * flip
    np.testing.assert_allclose(P, (X - c) @ V, atol=1e-9)
    check_ellipses(ax, (g.means_ - c) @ V, np.array([V.T @ S @ V for S in full_covs(g)]))


def test_clusters_pairs_grid():
    r = np.random.default_rng(2)
    X = np.hstack([blobs2(), r.normal(size=(1000, 3))])
    g = SkGM(3, random_state=0).fit(X)
    axs = plot.clusters(g, X, projection="grid")
    assert axs.shape == (4, 4)
    assert "pairs of the first 4 of 5 features" in axs[0, 0].figure._suptitle.get_text()
    S = full_covs(g)
    check_ellipses(axs[2, 0], g.means_[:, [0, 2]], S[:, [0, 2]][:, :, [0, 2]])
    with pytest.raises(ValueError, match="ax=None"):
        plot.clusters(g, X, projection="grid", ax=plt.gca())


def test_clusters_1d():
    X = demo_data()
    g = SkGM(2, random_state=0).fit(X)
    ax = plot.clusters(g, X)
    for k in range(2):
        sd = math.sqrt(g.covariances_[k, 0, 0])
        for s in (1, 2, 3):
            xs = by_gid(ax, f"emgmm-interval-{k}-{s}").get_xdata()
            np.testing.assert_allclose(xs, [g.means_[k, 0] - s * sd, g.means_[k, 0] + s * sd])


# --------------------------------------------------------------------------- uncertainty

def test_uncertainty_is_one_minus_max_responsibility():
    X = blobs2()
    g = SkGM(3, random_state=0).fit(X)
    ax = plot.uncertainty(g, X)
    sc = by_gid(ax, "emgmm-uncertainty", "collections")
    u_drawn, P = np.asarray(sc.get_array()), sc.get_offsets()
    u_ref = 1.0 - g.predict_proba(X).max(axis=1)
    # points are drawn in order of uncertainty; match them back to rows
    order = np.lexsort((X[:, 1], X[:, 0]))
    order_d = np.lexsort((P[:, 1], P[:, 0]))
    np.testing.assert_array_equal(P[order_d], X[order])
    np.testing.assert_allclose(u_drawn[order_d], u_ref[order], atol=1e-9)
    sizes = sc.get_sizes()
    assert np.all(np.diff(sizes[np.argsort(u_drawn)]) >= 0)  # larger when more uncertain
    assert sizes.max() > 5 * sizes.min()


def test_uncertainty_1d():
    X = demo_data()
    g = SkGM(2, random_state=0).fit(X)
    sc = by_gid(plot.uncertainty(g, X), "emgmm-uncertainty", "collections")
    P = sc.get_offsets()
    np.testing.assert_allclose(P[:, 1], 1.0 - g.predict_proba(P[:, :1]).max(axis=1), atol=1e-9)


# --------------------------------------------------------------------------- subsample

def test_large_data_are_subsampled_with_a_stated_seeded_sample():
    r = np.random.default_rng(11)
    X = np.vstack([blobs2()] * 50) + r.normal(scale=0.01, size=(50000, 2))
    g = SkGM(3, random_state=0).fit(X[:5000])
    ax = plot.clusters(g, X)
    P = by_gid(ax, "emgmm-points", "collections").get_offsets()
    assert len(P) == 20000
    rows = {tuple(x) for x in X}
    assert all(tuple(p) in rows for p in P)
    note = by_gid(ax, "emgmm-subsample-note", "texts").get_text()
    assert "20,000 of 50,000" in note and "seed 0" in note
    P2 = by_gid(plot.clusters(g, X), "emgmm-points", "collections").get_offsets()
    np.testing.assert_array_equal(P, P2)  # the same seed, the same points
    P3 = by_gid(plot.clusters(g, X, seed=4), "emgmm-points", "collections").get_offsets()
    assert not np.array_equal(P, P3)
    P4 = by_gid(plot.clusters(g, X, sample=0), "emgmm-points", "collections").get_offsets()
    assert len(P4) == 50000


# --------------------------------------------------------------------------- bic

def sweep_rows(X, ks=(1, 2, 3, 4, 5)):
    rows = []
    for cov in COV_TYPES:
        for k in ks:
            g = SkGM(k, covariance_type=cov, random_state=0).fit(X)
            rows.append({"k": k, "covariance_type": cov, "bic": g.bic(X), "aic": g.aic(X)})
    best = min(rows, key=lambda r: r["bic"])
    for r in rows:
        r["best"] = int(r is best)
    return rows


def write_csv_table(path, rows, failed=True):
    with open(path, "w") as f:
        f.write("k,covariance_type,status,bic,aic,log_likelihood,n_parameters,converged,n_iter,"
                "best,error\n")
        for r in rows:
            f.write(f"{r['k']},{r['covariance_type']},ok,{r['bic']!r},{r['aic']!r},0,1,true,3,"
                    f"{r['best']},\n")
        if failed:
            f.write('9,full,failed,,,,53,,,0,"8 samples, 9 components"\n')


def check_bic(ax, rows, crit="bic"):
    for cov in COV_TYPES:
        line = by_gid(ax, f"emgmm-{crit}-{cov}")
        want = sorted((r["k"], r[crit]) for r in rows if r["covariance_type"] == cov)
        np.testing.assert_array_equal(line.get_xdata(), [w[0] for w in want])
        np.testing.assert_array_equal(line.get_ydata(), [w[1] for w in want])
        assert line.get_label() == cov
    best = min(rows, key=lambda r: r[crit])
    star = by_gid(ax, "emgmm-best")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (best["k"], best[crit])
    assert f"K = {best['k']}, {best['covariance_type']}" in star.get_label()


def test_bic_points_and_best_equal_the_table_csv_and_json(tmp_path):
    X = blobs2()
    rows = sweep_rows(X)
    write_csv_table(tmp_path / "sweep.csv", rows)
    check_bic(plot.bic(str(tmp_path / "sweep.csv")), rows)
    check_bic(plot.bic(str(tmp_path / "sweep.csv"), criterion="aic"), rows, "aic")
    best = next(r for r in rows if r["best"])
    doc = {"format": "emgmm-select", "version": 1, "criterion": "bic",
           "best": {"k": best["k"], "covariance_type": best["covariance_type"]},
           "fits": [dict(r, status="ok") for r in rows]}
    (tmp_path / "sweep.json").write_text(json.dumps(doc))
    check_bic(plot.bic(str(tmp_path / "sweep.json")), rows)
    # TSV
    (tmp_path / "sweep.tsv").write_text((tmp_path / "sweep.csv").read_text()
                                        .replace(",", "\t").replace('"8 samples\t', '"8 samples,'))
    check_bic(plot.bic(str(tmp_path / "sweep.tsv")), rows)


def test_bic_marks_the_tables_best_on_a_tie():
    rows = [{"k": 1, "covariance_type": "full", "bic": 10.0, "aic": 9.0, "best": 0},
            {"k": 1, "covariance_type": "tied", "bic": 10.0, "aic": 9.0, "best": 1},
            {"k": 2, "covariance_type": "full", "bic": 12.0, "aic": 8.0, "best": 0},
            {"k": 2, "covariance_type": "tied", "bic": 11.0, "aic": 8.5, "best": 0}]
    star = by_gid(plot.bic(rows), "emgmm-best")
    assert "tied" in star.get_label()
    star = by_gid(plot.bic(rows, criterion="aic"), "emgmm-best")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (2, 8.0)


def test_bic_from_emgmm_select_rows():
    """emgmm.select's table: columns n_components and rank (1 = best), failures with an error."""
    X = blobs2()
    rows = sweep_rows(X, ks=(1, 2, 3))
    order = sorted(rows, key=lambda r: r["bic"])
    table = [{"rank": i + 1, "n_components": r["k"], "covariance_type": r["covariance_type"],
              "bic": r["bic"], "aic": r["aic"], "error": None} for i, r in enumerate(order)]
    table.append({"rank": len(table) + 1, "n_components": 7, "covariance_type": "full",
                  "bic": float("nan"), "aic": float("nan"), "error": "too few samples"})
    check_bic(plot.bic((table, None)), rows)


def test_bic_of_a_real_select_table(tmp_path):
    cli = os.environ.get("EMGMM_CLI")
    if not cli:
        pytest.skip("EMGMM_CLI (the emgmm tool) not given")
    X = blobs2()
    np.save(tmp_path / "x.npy", X)
    subprocess.run([cli, "select", str(tmp_path / "x.npy"), "--k", "1:4", "--table",
                    str(tmp_path / "s.csv"), "-q"], check=True)
    import csv
    with open(tmp_path / "s.csv") as f:
        rows = [dict(r, k=int(r["k"]), bic=float(r["bic"]), aic=float(r["aic"]))
                for r in csv.DictReader(f)]
    ax = plot.bic(str(tmp_path / "s.csv"))
    check_bic(ax, rows)
    best = next(r for r in rows if r["best"] == "1")
    assert by_gid(ax, "emgmm-best").get_xdata()[0] == best["k"]


# --------------------------------------------------------------------------- convergence

def test_convergence_line_equals_lower_bounds():
    GM = emgmm_models()
    if GM is None:
        pytest.skip("emgmm's C extension is not built")
    X = blobs2()
    g = GM(3, tol=1e-6, random_state=0).fit(X)
    ax = plot.convergence(g)
    line = by_gid(ax, "emgmm-lower-bound")
    np.testing.assert_array_equal(line.get_ydata(), np.asarray(g.lower_bounds_))
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(g.lower_bounds_) + 1))
    assert len(g.lower_bounds_) > 2


def test_convergence_of_n_init_draws_every_restart():
    GM = emgmm_models()
    if GM is None:
        pytest.skip("emgmm's C extension is not built")
    X = blobs2()
    g = GM(3, tol=1e-6, n_init=4, init_params="random", random_state=1).fit(X)
    runs = g.restart_lower_bounds_
    assert len(runs) == 4
    # the kept run is the one with the best final lower bound, and it is lower_bounds_
    assert g.best_init_ == int(np.argmax([r[-1] for r in runs]))
    np.testing.assert_array_equal(runs[g.best_init_], np.asarray(g.lower_bounds_))
    ax = plot.convergence(g)
    np.testing.assert_array_equal(by_gid(ax, "emgmm-lower-bound").get_ydata(),
                                  np.asarray(g.lower_bounds_))
    others = [r for i, r in enumerate(runs) if i != g.best_init_]
    for i, r in enumerate(others):
        np.testing.assert_array_equal(by_gid(ax, "emgmm-restart-%d" % i).get_ydata(), r)
    assert "4 runs" in ax.get_title()


def test_convergence_of_a_sequence_with_restarts_and_reseeds():
    lb = [-5.0, -4.2, -4.1, -4.05, -4.04]
    other = [-6.0, -5.5, -5.4]
    ax = plot.convergence(lb, restarts=[other, lb], reseeds=[2])
    np.testing.assert_array_equal(by_gid(ax, "emgmm-lower-bound").get_ydata(), lb)
    np.testing.assert_array_equal(by_gid(ax, "emgmm-restart-0").get_ydata(), other)
    assert not [ln for ln in ax.lines if ln.get_gid() == "emgmm-restart-1"]  # the kept one
    rs = by_gid(ax, "emgmm-reseeds")
    assert list(rs.get_xdata()) == [2] and list(rs.get_ydata()) == [-4.2]
    assert "2 runs" in ax.get_title()


def write_log(path, lbs, reseeds=(), n_init=1):
    ev = [{"event": "start", "n": 10, "d": 1, "k": 2, "n_init": n_init},
          {"event": "init", "method": "kmeans", "seconds": 0.1}]
    for i, v in enumerate(lbs, 1):
        for r in reseeds:
            if r == i:
                ev.append({"event": "reseed", "iter": i, "component": 1, "log_density": -9.5})
        ev.append({"event": "iteration", "iter": i, "lower_bound": v, "change": None,
                   "seconds": 0.01, "elapsed": 0.1 + i})
    ev.append({"event": "done", "n_iter": len(lbs), "converged": True})
    path.write_text("".join(json.dumps(e) + "\n" for e in ev))


def test_convergence_of_a_fit_log(tmp_path):
    lbs = [-3.344091964911422, -3.334946845181038, -3.332485980085528, -3.331803156079021]
    write_log(tmp_path / "f.jsonl", lbs, reseeds=[3], n_init=3)
    ax = plot.convergence(str(tmp_path / "f.jsonl"))
    line = by_gid(ax, "emgmm-lower-bound")
    np.testing.assert_array_equal(line.get_ydata(), lbs)
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    rs = by_gid(ax, "emgmm-reseeds")
    assert list(rs.get_xdata()) == [3] and list(rs.get_ydata()) == [lbs[2]]
    assert "n_init = 3" in ax.get_title()


def test_convergence_of_a_real_fit_log_with_a_reseed(tmp_path):
    cli = os.environ.get("EMGMM_CLI")
    if not cli:
        pytest.skip("EMGMM_CLI (the emgmm tool) not given")
    r = np.random.default_rng(3)
    X = np.vstack([r.normal(size=(300, 2)), r.normal(size=(300, 2)) + [5, 0],
                   r.normal(size=(200, 2)) * 0.5 + [2, 6]])
    np.save(tmp_path / "x.npy", X)
    init = {"format": "emgmm-model", "version": 1, "covariance_type": "full", "n_components": 3,
            "n_features": 2, "weights": [0.4, 0.4, 0.2], "means": [[0, 0], [5, 0], [1000, 1000]],
            "covariances": [np.eye(2).tolist()] * 3}
    (tmp_path / "init.json").write_text(json.dumps(init))
    subprocess.run([cli, "fit", str(tmp_path / "x.npy"), "--init", str(tmp_path / "init.json"),
                    "-o", str(tmp_path / "m.json"), "--log", str(tmp_path / "f.jsonl"), "-q"],
                   check=True)
    events = [json.loads(ln) for ln in (tmp_path / "f.jsonl").read_text().splitlines()]
    lbs = [e["lower_bound"] for e in events if e["event"] == "iteration"]
    reseeds = [e["iter"] for e in events if e["event"] == "reseed"]
    assert reseeds  # the far component empties and is reseeded
    ax = plot.convergence(str(tmp_path / "f.jsonl"))
    np.testing.assert_array_equal(by_gid(ax, "emgmm-lower-bound").get_ydata(), lbs)
    assert list(by_gid(ax, "emgmm-reseeds").get_xdata()) == reseeds


# --------------------------------------------------------------------------- the contract

def write_model(path, g):
    d = {"format": "emgmm-model", "version": 1, "covariance_type": g.covariance_type,
         "n_components": int(len(g.weights_)), "n_features": int(g.means_.shape[1]),
         "weights": (g.weights_ / g.weights_.sum()).tolist(), "means": g.means_.tolist(),
         "covariances": np.asarray(g.covariances_).tolist()}
    path.write_text(json.dumps(d))


def test_functions_draw_on_the_given_axes_and_pass_kwargs():
    X = blobs2()
    g = SkGM(3, random_state=0).fit(X)
    fig, axs = plt.subplots(2, 3)
    assert plot.density(g, X, ax=axs[0, 0]) is axs[0, 0]
    assert plot.clusters(g, X, ax=axs[0, 1], marker="+") is axs[0, 1]
    assert plot.uncertainty(g, X, ax=axs[0, 2]) is axs[0, 2]
    rows = [{"k": 1, "covariance_type": "full", "bic": 3.0, "aic": 2.0}]
    assert plot.bic(rows, ax=axs[1, 0], lw=4) is axs[1, 0]
    assert by_gid(axs[1, 0], "emgmm-bic-full").get_linewidth() == 4
    assert plot.convergence([1.0, 2.0], ax=axs[1, 1], color="red") is axs[1, 1]
    assert by_gid(axs[1, 1], "emgmm-lower-bound").get_color() == "red"
    d1 = demo_data()
    ax = plot.density(SkGM(2, random_state=0).fit(d1), d1, ax=axs[1, 2], color="green", lw=3)
    assert by_gid(ax, "emgmm-density").get_color() == "green"
    assert len(fig.axes) >= 6


def test_bad_input_is_a_clear_value_error():
    X = blobs2()
    g = SkGM(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="model has 2 features but the data have 3 columns"):
        plot.clusters(g, np.hstack([X, X[:, :1]]))
    with pytest.raises(ValueError, match="out of range"):
        plot.clusters(g, X, features=(0, 5))
    with pytest.raises(ValueError, match="different"):
        plot.clusters(g, X, features=(1, 1))
    with pytest.raises(ValueError, match="criterion"):
        plot.bic([{"k": 1, "covariance_type": "full", "bic": 1.0}], criterion="xic")
    with pytest.raises(ValueError, match="no successful fit"):
        plot.bic([{"k": 1, "covariance_type": "full", "status": "failed", "bic": ""}])
    with pytest.raises(ValueError, match="lower_bounds_"):
        plot.convergence(g)  # scikit-learn 1.2 keeps no per-iteration history
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        plot.clusters(g, bad)


def test_importing_the_module_does_not_import_matplotlib():
    code = ("import sys, emgmm.plot as p; assert 'matplotlib' not in sys.modules, "
            "'imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_convergence_of_a_checkpoint(tmp_path):
    cli = os.environ.get("EMGMM_CLI")
    if not cli:
        pytest.skip("EMGMM_CLI (the emgmm tool) not given")
    np.save(tmp_path / "x.npy", blobs2())
    subprocess.run([cli, "fit", str(tmp_path / "x.npy"), "-k", "3", "--init", "random",
                    "--tol", "0", "--max-iter", "12", "-o", str(tmp_path / "m.json"),
                    "--checkpoint", str(tmp_path / "ck.json"), "--log",
                    str(tmp_path / "f.jsonl"), "-q"], check=True)
    ck = json.loads((tmp_path / "ck.json").read_text())["checkpoint"]
    assert len(ck["lower_bounds"]) == 12
    ax = plot.convergence(str(tmp_path / "ck.json"))
    np.testing.assert_array_equal(by_gid(ax, "emgmm-lower-bound").get_ydata(),
                                  ck["lower_bounds"])
    events = [json.loads(ln) for ln in (tmp_path / "f.jsonl").read_text().splitlines()]
    assert ck["lower_bounds"] == [e["lower_bound"] for e in events if e["event"] == "iteration"]
