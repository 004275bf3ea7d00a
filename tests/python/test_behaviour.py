"""GaussianMixture's behaviours: attributes, fit semantics (n_init, max_iter,
tol, warm_start, verbose, ConvergenceWarning), bad input, no-copy input,
float32, sample weights, missing values, select, threadpool_info."""
import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

from conftest import blobs, rel_err

import emgmm
from emgmm import _emgmmc

TYPES = ["full", "tied", "diag", "spherical"]


def shapes(ct, K, d):
    return {"full": (K, d, d), "tied": (d, d), "diag": (K, d), "spherical": (K,)}[ct]


@pytest.mark.parametrize("ct", TYPES)
def test_attributes(X3, ct):
    K, d = 3, X3.shape[1]
    g = emgmm.GaussianMixture(K, covariance_type=ct, random_state=2).fit(X3)
    assert g.weights_.shape == (K,) and g.means_.shape == (K, d)
    assert g.covariances_.shape == g.precisions_.shape == g.precisions_cholesky_.shape \
        == shapes(ct, K, d)
    assert abs(g.weights_.sum() - 1) < 1e-12
    assert g.n_features_in_ == d and g.converged_ is True
    assert g.lower_bounds_.shape == (g.n_iter_,) and g.lower_bounds_[-1] == g.lower_bound_
    assert abs(g.lower_bounds_[-1] - g.lower_bounds_[-2]) < g.tol
    # precisions are the inverse covariances; the Cholesky factor squares to them
    if ct in ("full", "tied"):
        covs = g.covariances_.reshape((-1, d, d))
        precs = g.precisions_.reshape((-1, d, d))
        for c, p in zip(covs, precs):
            assert rel_err(c @ p, np.eye(d)) < 1e-10
        pc = g.precisions_cholesky_.reshape((-1, d, d))
        assert np.allclose(np.tril(pc, -1), 0)  # upper triangular, as scikit-learn's
    else:
        assert rel_err(g.precisions_ * g.covariances_, np.ones_like(g.covariances_)) < 1e-12
    # the three blobs are found: each true cluster maps to one component
    _, lab = blobs()
    pred = g.predict(X3)
    assert len({tuple(np.bincount(pred[lab == j], minlength=K).argsort()[-1:]) for j in range(3)}) == 3
    p = g.predict_proba(X3)
    assert p.shape == (len(X3), K) and np.allclose(p.sum(1), 1)
    np.testing.assert_array_equal(p.argmax(1), pred)
    s = g.score_samples(X3)
    assert s.shape == (len(X3),) and g.score(X3) == pytest.approx(s.mean(), rel=1e-14)
    n = len(X3)
    assert g.bic(X3) == pytest.approx(-2 * s.sum() + g._n_parameters() * np.log(n), rel=1e-12)
    assert g.aic(X3) == pytest.approx(-2 * s.sum() + 2 * g._n_parameters(), rel=1e-12)
    npar = {"full": K * d * (d + 1) / 2, "tied": d * (d + 1) / 2, "diag": K * d,
            "spherical": K}[ct] + K * d + K - 1
    assert g._n_parameters() == npar


@pytest.mark.parametrize("n_init", [1, 3])
@pytest.mark.parametrize("init", ["kmeans", "k-means++", "random", "random_from_data"])
def test_same_fit_as_the_c_driver(X3, n_init, init):
    """The step loop the package drives (to stop on Ctrl-C) gives emgmm_fit's
    model bit for bit, n_init starts and the kept best included."""
    g = emgmm.GaussianMixture(3, n_init=n_init, init_params=init, random_state=9).fit(X3)
    m = _emgmmc.Model(3, X3.shape[1], _emgmmc.COV_FULL)
    m.fit(X3, None, g._c_params(seed=9))
    st = m.state()
    for a, k in [("weights_", "weights"), ("means_", "means"), ("covariances_", "covariances"),
                 ("lower_bounds_", "lower_bounds")]:
        np.testing.assert_array_equal(getattr(g, a), st[k])
    assert g.n_iter_ == st["n_iter"]


def test_n_init_keeps_best_lower_bound():
    X, _ = blobs(n=400, d=2, k=5, seed=3, spread=3.0)
    one = [emgmm.GaussianMixture(5, init_params="random_from_data", random_state=s).fit(X)
           for s in (21,)]
    many = emgmm.GaussianMixture(5, n_init=6, init_params="random_from_data",
                                 random_state=21).fit(X)
    assert many.lower_bound_ >= one[0].lower_bound_


def test_max_iter_tol_and_convergence_warning(X3):
    with pytest.warns(emgmm.ConvergenceWarning):
        g = emgmm.GaussianMixture(3, max_iter=2, tol=0, random_state=0).fit(X3)
    assert g.n_iter_ == 2 and not g.converged_
    with pytest.warns(emgmm.ConvergenceWarning):
        g = emgmm.GaussianMixture(3, max_iter=7, tol=0.0, random_state=0).fit(X3)
    assert g.n_iter_ == 7 and len(g.lower_bounds_) == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = emgmm.GaussianMixture(3, tol=1e-2, random_state=0).fit(X3)
    assert g.converged_
    # max_iter = 0: initialisation only, no warning (as scikit-learn)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = emgmm.GaussianMixture(3, max_iter=0, random_state=0).fit(X3)
    assert g.n_iter_ == 0 and g.lower_bound_ == -np.inf and g.means_.shape == (3, 3)


def test_warm_start_continues(X3):
    """Five warm-started fits of one iteration each end where one fit of five
    iterations from the same start ends."""
    kw = dict(n_components=3, tol=0, random_state=5)
    with pytest.warns(emgmm.ConvergenceWarning):
        ref = emgmm.GaussianMixture(max_iter=5, **kw).fit(X3)
    g = emgmm.GaussianMixture(max_iter=1, warm_start=True, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        for _ in range(5):
            g.fit(X3)
    np.testing.assert_array_equal(g.means_, ref.means_)
    np.testing.assert_array_equal(g.covariances_, ref.covariances_)
    assert g.n_iter_ == 1  # each warm fit counts its own iterations, as scikit-learn's
    # without warm_start a refit starts again
    h = emgmm.GaussianMixture(max_iter=1, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        h.fit(X3)
        first = h.means_.copy()
        h.fit(X3)
    np.testing.assert_array_equal(h.means_, first)


def test_verbose(X3, capsys):
    with pytest.warns(emgmm.ConvergenceWarning):
        emgmm.GaussianMixture(3, verbose=1, verbose_interval=1, tol=1e-8, random_state=0,
                              max_iter=4).fit(X3)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Initialization 0"
    assert out[1:5] == [f"  Iteration {i}" for i in range(1, 5)]
    assert out[-1].startswith("Initialization converged: ")
    emgmm.GaussianMixture(3, verbose=2, verbose_interval=2, random_state=0).fit(X3)
    out = capsys.readouterr().out
    assert "  Iteration 2\t time lapse " in out and "\t ll change " in out and "\t ll " in out


BAD_PARAMS = [("n_components", 0), ("n_components", 1.5), ("covariance_type", "bogus"),
              ("tol", -1.0), ("reg_covar", -1e-6), ("max_iter", -1), ("n_init", 0),
              ("init_params", "kmeans++"), ("verbose_interval", 0), ("missing", "zero"),
              ("degenerate", "ignore"), ("var_floor", 1.5), ("dtype", "int32"), ("n_threads", 0),
              ("random_state", "seed"), ("warm_start", "yes")]


@pytest.mark.parametrize("name, value", BAD_PARAMS)
def test_bad_parameter(X3, name, value):
    with pytest.raises(ValueError, match=name if name != "random_state" else "random_state"):
        emgmm.GaussianMixture(**{name: value}).fit(X3)


def test_bad_user_init(X3):
    with pytest.raises(ValueError, match="weights"):
        emgmm.GaussianMixture(3, weights_init=[0.5, 0.5]).fit(X3)
    with pytest.raises(ValueError, match="weights"):
        emgmm.GaussianMixture(3, weights_init=[0.5, 0.6, 0.1]).fit(X3)
    with pytest.raises(ValueError, match="means"):
        emgmm.GaussianMixture(3, means_init=np.zeros((3, 2))).fit(X3)
    with pytest.raises(ValueError, match="precision"):
        emgmm.GaussianMixture(3, precisions_init=-np.ones((3, 3, 3))).fit(X3)


def test_bad_data(X3):
    g = emgmm.GaussianMixture(2)
    Xn = X3.copy()
    Xn[17, 2] = np.nan
    with pytest.raises(ValueError, match="row 17, column 2"):
        g.fit(Xn)
    Xi = X3.copy()
    Xi[3, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        g.fit(Xi)
    with pytest.raises(ValueError, match="n_samples >= n_components"):
        emgmm.GaussianMixture(5).fit(X3[:4])
    with pytest.raises(ValueError, match="1 sample"):
        g.fit(X3[:1])
    with pytest.raises(ValueError, match="0 sample"):
        g.fit(np.empty((0, 3)))
    with pytest.raises(ValueError, match="2D"):
        g.fit(X3[:, 0])
    with pytest.raises(ValueError, match="could not convert string"):
        g.fit([["1", "2"], ["x", "4"], ["5", "6"]])
    with pytest.raises(ValueError, match="Complex"):
        g.fit(X3 + 1j)
    with pytest.raises(ValueError, match="sample_weight"):
        g.fit(X3, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="sample_weight"):
        g.fit(X3, sample_weight=-np.ones(len(X3)))
    g.fit(X3)
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is expecting 3"):
        g.predict(X3[:, :2])
    with pytest.raises(ValueError, match="row 17, column 2"):
        g.predict(Xn)
    scipy_sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="sparse"):
        g.fit(scipy_sparse.csr_matrix(X3))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples", "score", "bic",
                                    "aic", "sample", "save", "impute"])
def test_not_fitted(X3, method, tmp_path):
    g = emgmm.GaussianMixture(2)
    arg = {"sample": 3, "save": tmp_path / "m.json"}.get(method, X3)
    with pytest.raises(emgmm.NotFittedError, match="not fitted yet"):
        getattr(g, method)(arg)
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_copy(dtype):
    """A C-contiguous float64/float32 array reaches the C library as it is:
    the Python layer passes the same object on, the C side reads that buffer,
    and fitting allocates nothing that grows with the data."""
    X, _ = blobs(n=100_000, d=8, k=4, seed=2, dtype=dtype)
    g = emgmm.GaussianMixture(4, random_state=0, max_iter=3, tol=0)
    Xc, _ = g._check_X(X, fit=True)
    assert Xc is X
    assert _emgmmc.data_pointer(Xc) == X.__array_interface__["data"][0]
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        g.fit(X)
        g.predict_proba(X[:10])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.05 * X.nbytes, (peak, X.nbytes)
    # other layouts are converted once (a Fortran-ordered array, ints)
    F = np.asfortranarray(X)
    Fc, _ = g._check_X(F, fit=True)
    assert Fc is not F and Fc.flags.c_contiguous and Fc.dtype == dtype
    assert _emgmmc.data_pointer(Fc) != F.__array_interface__["data"][0]
    assert g._check_X(X.astype(np.int64)[:10], fit=True)[0].dtype == np.float64


def test_c_side_rejects_what_it_would_copy():
    m = _emgmmc.Model(2, 3, _emgmmc.COV_FULL)
    with pytest.raises(TypeError, match="C-contiguous"):
        m.fit_init(np.zeros((10, 3), order="F"), None, {}, 0)
    with pytest.raises(TypeError, match="float64 or float32"):
        m.fit_init(np.zeros((10, 3), dtype=np.int64), None, {}, 0)


def test_float32_stays_float32():
    X64, _ = blobs(n=2000, d=4, k=3, seed=8)
    X32 = X64.astype(np.float32)
    kw = dict(n_components=3, random_state=0, tol=0, max_iter=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        g32 = emgmm.GaussianMixture(**kw).fit(X32)
        g64 = emgmm.GaussianMixture(**kw).fit(X64)
        g32as64 = emgmm.GaussianMixture(dtype="float64", **kw).fit(X32)
        g64of32 = emgmm.GaussianMixture(**kw).fit(X32.astype(np.float64))
    assert g32.means_.dtype == np.float64  # parameters and statistics in double
    # float32 data ran in float32: close to, but not bitwise, the float64 fit of the same values
    assert rel_err(g32.means_, g64of32.means_) < 1e-4
    assert not np.array_equal(g32.covariances_, g64of32.covariances_)
    # dtype='float64' converts: the same as fitting the float64 copy
    np.testing.assert_array_equal(g32as64.covariances_, g64of32.covariances_)
    assert rel_err(g32.predict_proba(X32), g32.predict_proba(X32.astype(np.float64))) < 1e-4
    assert g64.converged_ is False


def test_sample_weight_equals_repeated_rows(X3):
    """Integer weights give the fit on rows repeated that many times (from
    the same initial parameters)."""
    rng = np.random.RandomState(4)
    w = rng.randint(0, 4, size=len(X3)).astype(float)
    Xr = np.repeat(X3, w.astype(int), axis=0)
    init = emgmm.GaussianMixture(3, random_state=0, max_iter=0).fit(X3)
    kw = dict(n_components=3, tol=0, max_iter=20, weights_init=init.weights_,
              means_init=init.means_, precisions_init=init.precisions_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        gw = emgmm.GaussianMixture(**kw).fit(X3, sample_weight=w)
        gr = emgmm.GaussianMixture(**kw).fit(Xr)
    for a in ["weights_", "means_", "covariances_", "lower_bounds_"]:
        assert rel_err(getattr(gw, a), getattr(gr, a)) < 1e-10, a


def test_missing_values_and_impute():
    X, _ = blobs(n=3000, d=4, k=3, seed=6)
    rng = np.random.RandomState(1)
    holes = rng.rand(*X.shape) < 0.1
    holes[holes.all(1), 0] = False
    Xm = X.copy()
    Xm[holes] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        emgmm.GaussianMixture(3, random_state=0).fit(Xm)
    g = emgmm.GaussianMixture(3, missing="nan", random_state=0).fit(Xm)
    assert np.all(np.isfinite(g.means_))
    assert np.all(np.isfinite(g.score_samples(Xm)))
    Xf = g.impute(Xm)
    assert not np.isnan(Xf).any()
    np.testing.assert_array_equal(Xf[~holes], X[~holes])
    # the conditional expectation beats the column means on the true values
    colmean = np.where(holes, np.nanmean(Xm, axis=0), Xm)
    err_gmm = np.abs(Xf - X)[holes].mean()
    err_mean = np.abs(colmean - X)[holes].mean()
    assert err_gmm < 0.7 * err_mean, (err_gmm, err_mean)
    Xd = g.impute(Xm, draws=True, random_state=3)
    assert not np.isnan(Xd).any() and not np.array_equal(Xd, Xf)
    np.testing.assert_array_equal(Xd, g.impute(Xm, draws=True, random_state=3))


def test_sample(X3):
    g = emgmm.GaussianMixture(3, random_state=2).fit(X3)
    Xs, ys = g.sample(5000)
    assert Xs.shape == (5000, 3) and ys.shape == (5000,)
    assert np.all(np.diff(ys) >= 0)  # grouped by component, as scikit-learn's
    for k in range(3):
        assert abs(np.mean(ys == k) - g.weights_[k]) < 0.03
        assert rel_err(Xs[ys == k].mean(0), g.means_[k]) < 0.1
    np.testing.assert_array_equal(g.sample(10)[0], g.sample(10)[0])  # int random_state
    with pytest.raises(ValueError, match="n_samples"):
        g.sample(0)


def test_select():
    X, _ = blobs(n=900, d=2, k=3, seed=5, spread=8.0)
    table, best = emgmm.select(X, n_components=range(1, 6), covariance_types=("full", "diag"),
                               random_state=0)
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    assert len(rows) == 10
    assert [r["rank"] for r in rows] == list(range(1, 11))
    bics = [r["bic"] for r in rows]
    assert bics == sorted(bics)
    assert best.n_components == rows[0]["n_components"] == 3
    assert best.covariance_type == rows[0]["covariance_type"]
    assert best.bic(X) == pytest.approx(rows[0]["bic"], rel=1e-12)
    # a fit that cannot run (K > n) is recorded, ranked last
    table, best = emgmm.select(X[:4], n_components=[1, 2, 6], covariance_types="spherical",
                               random_state=0)
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    assert rows[-1]["n_components"] == 6 and "n_components" in rows[-1]["error"]
    with pytest.raises(ValueError, match="criterion"):
        emgmm.select(X, criterion="loglik")


def test_threadpool_info():
    info = emgmm.threadpool_info()
    for k in ["corename", "config", "suggested_coretype", "default_threads", "openmp",
              "openblas_coretype", "version"]:
        assert k in info
    assert isinstance(info["corename"], str) and info["corename"]
    assert info["default_threads"] >= 1
    assert emgmm.__version__ == info["version"]


def test_generic_core_warning_and_reexec(monkeypatch):
    """On a generic core the package warns at import (it cannot change the
    already loaded OpenBLAS) and blas_corefix_reexec re-runs the script with
    the suggested OPENBLAS_CORETYPE, as the CLI does."""
    from emgmm import _blas

    class Fake:
        @staticmethod
        def blas_info():
            return {"corename": "Prescott", "config": "", "suggested_coretype": "Haswell",
                    "default_threads": 1, "openmp": 1}
    monkeypatch.setattr(_blas, "_emgmmc", Fake)
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("EMGMM_COREFIX_FROM", raising=False)
    monkeypatch.delenv("EMGMM_NO_COREFIX", raising=False)
    with pytest.warns(emgmm.BlasCoreWarning, match="OPENBLAS_CORETYPE=Haswell"):
        assert _blas.check_blas_core() == "Haswell"
    calls = []
    monkeypatch.setattr(_blas.os, "execve", lambda *a: calls.append(a))
    monkeypatch.setattr(_blas.sys, "argv", ["script.py", "--x"])
    _blas.blas_corefix_reexec()
    (exe, argv, env), = calls
    assert argv[1:] == ["script.py", "--x"]
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["EMGMM_COREFIX_FROM"] == "Prescott"
    monkeypatch.setenv("EMGMM_NO_COREFIX", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _blas.check_blas_core() is None
    _blas.blas_corefix_reexec()
    assert len(calls) == 1


def test_works_without_sklearn(tmp_path):
    """numpy is the only run-time dependency: with scikit-learn hidden the
    estimator still fits, and has its own get_params/set_params, warnings and
    errors."""
    code = r"""
import sys, warnings
sys.modules['sklearn'] = None
import numpy as np, emgmm
X = np.random.RandomState(0).randn(300, 2); X[:150] += 6
g = emgmm.GaussianMixture(2, random_state=0)
assert g.get_params()['n_components'] == 2
g.set_params(n_components=2, covariance_type='diag')
assert g.fit(X).means_.shape == (2, 2)
try:
    emgmm.GaussianMixture(2).predict(X); raise SystemExit('no NotFittedError')
except emgmm.NotFittedError:
    pass
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter('always')
    emgmm.GaussianMixture(2, max_iter=1, tol=0).fit(X)
assert any(issubclass(x.category, emgmm.ConvergenceWarning) for x in w)
assert 'sklearn' not in type(emgmm.ConvergenceWarning).__module__
print('ok', repr(g))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok GaussianMixture(")


def test_n_threads_same_result(X3):
    a = emgmm.GaussianMixture(3, random_state=0, n_threads=1).fit(X3)
    b = emgmm.GaussianMixture(3, random_state=0, n_threads=2).fit(X3)
    assert rel_err(a.means_, b.means_) < 1e-10
