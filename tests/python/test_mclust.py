"""mclust's fourteen structures, ICL, init_resp, accel and init_params='emem'/'smem'
in the Python package (issues 19 and 18): each against the CLI/library on
the same data, or against a direct computation."""
import os
import subprocess
import warnings

import numpy as np
import pytest

from conftest import blobs, cli_path, rel_err

import emgmm

NEW = ("EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV")
STORAGE = {"EII": "spherical", "VII": "spherical", "EEI": "diag", "VEI": "diag",
           "EVI": "diag", "VVI": "diag", "EEE": "tied"}


def _data(n=400, d=3, k=3, seed=19):
    return blobs(n=n, d=d, k=k, seed=seed, spread=5.0)


def _mclust_n_parameters(model, G, p):
    """mclust's nMclustParams, written out from its documentation."""
    rot = p * (p - 1) // 2
    var = {"EII": 1, "VII": G, "EEI": p, "VEI": G + p - 1, "EVI": 1 + G * (p - 1),
           "VVI": G * p, "EEE": p * (p + 1) // 2, "EVE": 1 + G * (p - 1) + rot,
           "VEE": G + p - 1 + rot, "VVE": G + G * (p - 1) + rot, "EEV": 1 + p - 1 + G * rot,
           "VEV": G + p - 1 + G * rot, "EVV": 1 - G + G * p * (p + 1) // 2,
           "VVV": G * p * (p + 1) // 2}[model]
    return var + G * p + G - 1


@pytest.mark.parametrize("name", NEW)
def test_mclust_name_matches_cli(tmp_path, name):
    """covariance_type=NAME from the same labels is the CLI's --model NAME fit to 1e-12."""
    X, lab = _data()
    K = 3
    kw = dict(max_iter=15, tol=0.0, n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        est = emgmm.GaussianMixture(K, covariance_type=name, **kw).fit(X, init_resp=lab)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", fmt="%.17g")
    np.savetxt(tmp_path / "lab.csv", lab, fmt="%d")
    out = tmp_path / "m.json"
    r = subprocess.run([cli_path(), "fit", str(tmp_path / "x.csv"), "-k", str(K), "--model", name,
                        "--init-resp", str(tmp_path / "lab.csv"), "--max-iter", "15", "--tol",
                        "0", "--threads", "1", "-q", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cli = emgmm.load(out)
    assert cli.covariance_type == name
    assert est.covariance_storage_ == STORAGE.get(name, "full")
    shape = {"full": (K, 3, 3), "tied": (3, 3), "diag": (K, 3), "spherical": (K,)}
    assert est.covariances_.shape == shape[est.covariance_storage_]
    for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        e = rel_err(getattr(est, attr), getattr(cli, attr))
        assert e <= 1e-12, f"{name} {attr}: {e:.3g}"
    assert abs(est.score(X) - cli.score(X)) <= 1e-12 * abs(cli.score(X))


@pytest.mark.parametrize("name", emgmm.MCLUST_MODELS)
def test_mclust_counts_bic_aic_icl(name):
    """n_parameters as mclust counts; bic/aic from it; icl = bic + 2 x the hard entropy."""
    X, lab = _data()
    n, d = X.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        est = emgmm.GaussianMixture(3, covariance_type=name, max_iter=5).fit(X, init_resp=lab)
    p = _mclust_n_parameters(name, 3, d)
    assert est._n_parameters() == p
    ll = est.score_samples(X).sum()
    assert est.bic(X) == pytest.approx(-2 * ll + p * np.log(n), rel=1e-12)
    assert est.aic(X) == pytest.approx(-2 * ll + 2 * p, rel=1e-12)
    ent = -np.log(est.predict_proba(X).max(axis=1)).sum()
    assert ent > 0
    assert est.icl(X) == pytest.approx(est.bic(X) + 2 * ent, rel=1e-12)


def test_sklearn_names_unchanged():
    """The four scikit-learn names give the same fit as their mclust aliases."""
    X, lab = _data()
    for sk, mc in (("full", "VVV"), ("tied", "EEE"), ("diag", "VVI"), ("spherical", "VII")):
        a = emgmm.GaussianMixture(3, covariance_type=sk, random_state=0).fit(X)
        b = emgmm.GaussianMixture(3, covariance_type=mc, random_state=0).fit(X)
        assert a.covariances_.shape == b.covariances_.shape
        np.testing.assert_array_equal(a.covariances_, b.covariances_)
        assert b.covariance_storage_ == sk
    with pytest.raises(ValueError, match="covariance_type"):
        emgmm.GaussianMixture(covariance_type="vvv").fit(X)


def test_init_resp_m_step_is_class_moments():
    """An M-step from one-hot labels (max_iter=0) gives the class means and scatter."""
    X, lab = _data()
    K, reg = 3, 1e-6
    est = emgmm.GaussianMixture(K, max_iter=0, reg_covar=reg).fit(X, init_resp=lab)
    for k in range(K):
        Xk = X[lab == k]
        mu = Xk.mean(axis=0)
        S = (Xk - mu).T @ (Xk - mu) / len(Xk) + reg * np.eye(X.shape[1])
        assert rel_err(est.means_[k], mu) < 1e-12
        assert rel_err(est.covariances_[k], S) < 1e-12
        assert est.weights_[k] == pytest.approx(len(Xk) / len(X), rel=1e-12)
    # the same as an (n, K) one-hot matrix, and as soft responsibilities scaled per row
    R = np.eye(K)[lab]
    est2 = emgmm.GaussianMixture(K, max_iter=0, reg_covar=reg).fit(X, init_resp=R * 2.0)
    np.testing.assert_array_equal(est.means_, est2.means_)
    with pytest.raises(ValueError, match="init_resp"):
        emgmm.GaussianMixture(K).fit(X, init_resp=lab[:-1])
    with pytest.raises(ValueError, match="init_resp"):
        emgmm.GaussianMixture(K).fit(X, init_resp=np.full(len(X), K))
    with pytest.raises(ValueError, match="init_resp"):
        emgmm.GaussianMixture(K).fit(X, init_resp=-R)
    with pytest.raises(ValueError, match="init_resp"):
        emgmm.GaussianMixture(K, means_init=np.zeros((K, 3))).fit(X, init_resp=lab)


@pytest.mark.parametrize("accel", ["squarem", "anderson"])
def test_accel_reaches_plain_optimum(accel):
    """accel='squarem' / 'anderson' reach plain EM's optimum (tol 1e-10) to 1e-8, in fewer passes."""
    X, _ = blobs(n=1500, d=2, k=4, seed=3, spread=1.5)  # overlapping: slow plain EM
    kw = dict(n_components=4, tol=1e-10, max_iter=20000, random_state=1, n_threads=1)
    plain = emgmm.GaussianMixture(**kw).fit(X)
    fast = emgmm.GaussianMixture(accel=accel, **kw).fit(X)
    assert plain.converged_ and fast.converged_
    assert abs(fast.lower_bound_ - plain.lower_bound_) <= 1e-8
    # The means are compared where both fits have converged in the parameters, not only in
    # the lower bound: on this flat likelihood plain EM stopped by tol 1e-10 is itself 1.9e-4
    # (relative) short of its own limit (30000 iterations), Anderson's 5e-5; at tol 1e-12
    # plain EM is within 1.8e-5 of it.
    tight = dict(kw, tol=1e-12)
    plain12 = emgmm.GaussianMixture(**tight).fit(X)
    fast12 = emgmm.GaussianMixture(accel=accel, **tight).fit(X)
    assert rel_err(np.sort(fast12.means_, axis=0), np.sort(plain12.means_, axis=0)) < 1e-4
    assert plain.n_passes_ == plain.n_iter_ + 1 or plain.n_passes_ >= plain.n_iter_
    assert fast.n_passes_ < plain.n_passes_
    # the lower bound never decreases between reported iterations
    assert np.all(np.diff(fast.lower_bounds_) >= -1e-12)
    assert emgmm.GaussianMixture().accel is None
    with pytest.raises(ValueError, match="accel"):
        emgmm.GaussianMixture(accel="daarem").fit(X)


@pytest.mark.parametrize("init", ["emem", "smem"])
def test_init_search_matches_cli(tmp_path, init):
    """init_params='emem'/'smem' is the CLI's --init of that name for the same seed (1e-12);
    the default stays kmeans."""
    assert emgmm.GaussianMixture().init_params == "kmeans"
    X, _ = _data(n=600)
    est = emgmm.GaussianMixture(4, init_params=init, random_state=5, n_threads=1).fit(X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", fmt="%.17g")
    out = tmp_path / "m.json"
    r = subprocess.run([cli_path(), "fit", str(tmp_path / "x.csv"), "-k", "4", "--init", init,
                        "--seed", "5", "--threads", "1", "-q", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    cli = emgmm.load(out)
    assert cli.init_params == init
    for attr in ("weights_", "means_", "covariances_"):
        assert rel_err(getattr(est, attr), getattr(cli, attr)) <= 1e-12, attr
    assert abs(est.lower_bound_ - cli.lower_bound_) <= 1e-12 * abs(cli.lower_bound_)


def test_inner_failure_is_warned():
    """An inner iteration stopped by inner_max_iter is counted and warned about."""
    X, lab = _data()
    with pytest.warns(emgmm.ConvergenceWarning, match="inner"):
        est = emgmm.GaussianMixture(3, covariance_type="VEE", inner_max_iter=1, max_iter=3,
                                    tol=0.0).fit(X, init_resp=lab)
    assert est.n_inner_failures_ >= 1 and est.max_inner_iter_ == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", emgmm.ConvergenceWarning)
        est = emgmm.GaussianMixture(3, covariance_type="VEE", max_iter=500).fit(X, init_resp=lab)
    assert est.n_inner_failures_ == 0 and est.max_inner_iter_ >= 2
    with pytest.raises(ValueError, match="inner_max_iter"):
        emgmm.GaussianMixture(inner_max_iter=0).fit(X)


def test_mclust_structure_round_trips(tmp_path):
    """pickle and save/load keep the structure (EVE's covariances in full storage)."""
    import pickle

    X, lab = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        est = emgmm.GaussianMixture(3, covariance_type="EVE", max_iter=10).fit(X, init_resp=lab)
    back = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    est.save(tmp_path / "m.json")
    loaded = emgmm.load(tmp_path / "m.json")
    assert loaded.covariance_type == "EVE"
    assert loaded._n_parameters() == est._n_parameters()
    np.testing.assert_array_equal(loaded.covariances_, est.covariances_)
    # precisions_init in the storage's shape; user parameters go through
    diag = emgmm.GaussianMixture(3, covariance_type="VEI", precisions_init=np.ones((3, 3)),
                                 max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        diag.fit(X)
    assert diag.covariances_.shape == (3, 3)


def test_select_mclust_icl():
    """select('mclust') sweeps the fourteen; criterion='icl' ranks by the icl column."""
    X, _ = _data(n=300, d=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        table, best = emgmm.select(X, n_components=[2, 3], covariance_types="mclust",
                                   criterion="icl", random_state=0)
    rows = table.to_dict("records") if hasattr(table, "to_dict") else table
    assert len(rows) == 28
    assert {r["covariance_type"] for r in rows} == set(emgmm.MCLUST_MODELS)
    ok = [r["icl"] for r in rows if r["error"] is None]
    assert ok == sorted(ok)
    assert best.icl(X) == pytest.approx(rows[0]["icl"], rel=1e-12)


@pytest.mark.skipif(os.environ.get("EMGMM_SKIP_SLOW") == "1", reason="EMGMM_SKIP_SLOW")
@pytest.mark.parametrize("kw", [dict(covariance_type="VEV"),
                                dict(accel="squarem", init_params="emem")],
                         ids=["VEV", "squarem-emem"])
def test_check_estimator_new_options(kw):
    """scikit-learn's check_estimator with an mclust structure, and with accel + emem."""
    sklearn = pytest.importorskip("sklearn")
    del sklearn
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        check_estimator(emgmm.GaussianMixture(**kw))
