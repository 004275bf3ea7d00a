"""From the same initial parameters (weights_init, means_init, precisions_init),
tol = 0 and a fixed max_iter, every fitted attribute agrees with
scikit-learn's GaussianMixture to 1e-8 relative, for the four covariance
types, on generated data and on the datasets scikit-learn ships."""
import numpy as np
import pytest

from conftest import blobs, rel_err

sklearn = pytest.importorskip("sklearn")
from sklearn import datasets  # noqa: E402
from sklearn.mixture import GaussianMixture as SkGM  # noqa: E402

import emgmm  # noqa: E402

TYPES = ["full", "tied", "diag", "spherical"]


def _data(name):
    if name == "blobs":
        return blobs(n=800, d=4, k=3, seed=11)[0], 3
    if name == "blobs_k4":
        return blobs(n=800, d=4, k=3, seed=12)[0], 4
    loader = {"iris": datasets.load_iris, "wine": datasets.load_wine,
              "breast_cancer": datasets.load_breast_cancer, "digits": datasets.load_digits}[name]
    X = loader().data.astype(np.float64)
    K = {"iris": 3, "wine": 3, "breast_cancer": 2, "digits": 10}[name]
    return X, K


def _initial(X, K, ct, seed):
    """Initial parameters computed here, independently of both engines:
    means at K distinct random rows, equal weights, precisions from the data's
    covariance (inflated so the first E-step is smooth)."""
    rng = np.random.RandomState(seed)
    n, d = X.shape
    means = X[rng.choice(n, K, replace=False)].copy()
    weights = np.full(K, 1.0 / K)
    cov = np.cov(X, rowvar=False) + 1e-3 * np.eye(d) * max(1e-12, np.var(X))
    cov = cov * 0.5
    if ct == "full":
        prec = np.array([np.linalg.inv(cov)] * K)
    elif ct == "tied":
        prec = np.linalg.inv(cov)
    elif ct == "diag":
        prec = np.array([1.0 / np.diag(cov)] * K)
    else:
        prec = np.full(K, 1.0 / np.mean(np.diag(cov)))
    return weights, means, prec


ATTRS = ["weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"]


@pytest.mark.parametrize("name", ["blobs", "blobs_k4", "iris", "wine", "breast_cancer", "digits"])
@pytest.mark.parametrize("ct", TYPES)
def test_same_as_sklearn(name, ct):
    X, K = _data(name)
    w, m, p = _initial(X, K, ct, seed=3)
    iters = 15
    kw = dict(n_components=K, covariance_type=ct, tol=0.0, max_iter=iters, reg_covar=1e-6,
              weights_init=w, means_init=m, precisions_init=p, random_state=0)
    with pytest.warns(Warning):  # tol = 0 never converges: both warn
        sk = SkGM(**kw).fit(X)
    with pytest.warns(emgmm.ConvergenceWarning):
        em = emgmm.GaussianMixture(degenerate="error", **kw).fit(X)
    assert em.n_iter_ == sk.n_iter_ == iters
    assert em.converged_ == sk.converged_ is False
    for a in ATTRS:
        got, want = getattr(em, a), getattr(sk, a)
        assert got.shape == want.shape, a
        assert rel_err(got, want) < 1e-8, (a, rel_err(got, want))
    assert abs(em.lower_bound_ - sk.lower_bound_) <= 1e-8 * abs(sk.lower_bound_)
    # predictions from the fitted parameters, too
    assert rel_err(em.score_samples(X), sk.score_samples(X)) < 1e-8
    assert rel_err(em.predict_proba(X), sk.predict_proba(X)) < 1e-7
    assert em.bic(X) == pytest.approx(sk.bic(X), rel=1e-8)
    assert em.aic(X) == pytest.approx(sk.aic(X), rel=1e-8)


@pytest.mark.parametrize("ct", TYPES)
def test_fit_predict_final_estep(ct):
    """fit_predict labels come from a final E-step on the fitted parameters,
    as scikit-learn's (so they equal predict on the same data)."""
    X, K = _data("blobs")
    w, m, p = _initial(X, K, ct, seed=5)
    kw = dict(n_components=K, covariance_type=ct, tol=0.0, max_iter=3, weights_init=w,
              means_init=m, precisions_init=p)
    with pytest.warns(Warning):
        sk_lab = SkGM(**kw).fit_predict(X)
    with pytest.warns(emgmm.ConvergenceWarning):
        est = emgmm.GaussianMixture(degenerate="error", **kw)
        lab = est.fit_predict(X)
    np.testing.assert_array_equal(lab, sk_lab)
    np.testing.assert_array_equal(lab, est.predict(X))
