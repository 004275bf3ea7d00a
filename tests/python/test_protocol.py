"""The scikit-learn estimator protocol: check_estimator, clone, Pipeline,
GridSearchCV, cross_val_score, pickling."""
import pickle
import warnings

import numpy as np
import pytest

from conftest import blobs

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

import emgmm  # noqa: E402

# Checks that cannot apply, with the reason.  Empty today: every check of
# scikit-learn 1.2's check_estimator passes.  (check_sample_weights_pandas_series
# skips itself where pandas is absent.)
NOT_APPLICABLE = {}


def _checks():
    for est, check in check_estimator(emgmm.GaussianMixture(), generate_only=True):
        name = getattr(check, "func", check).__name__
        marks = []
        if name in NOT_APPLICABLE:
            marks = [pytest.mark.xfail(reason=NOT_APPLICABLE[name], strict=True)]
        yield pytest.param(est, check, id=name, marks=marks)


@pytest.mark.parametrize("est, check", list(_checks()))
def test_check_estimator(est, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        check(est)


def test_is_sklearn_estimator():
    from sklearn.base import BaseEstimator, DensityMixin
    g = emgmm.GaussianMixture()
    assert isinstance(g, BaseEstimator) and isinstance(g, DensityMixin)
    assert g._estimator_type == "DensityEstimator"
    # sklearn's ConvergenceWarning and NotFittedError are the package's
    from sklearn.exceptions import ConvergenceWarning, NotFittedError
    assert emgmm.ConvergenceWarning is ConvergenceWarning
    assert emgmm.NotFittedError is NotFittedError


def test_same_constructor_as_sklearn():
    """Every scikit-learn parameter, with the same default, in the same order,
    followed by emgmm's own."""
    from sklearn.mixture import GaussianMixture as SkGM
    ours = emgmm.GaussianMixture().get_params()
    theirs = SkGM().get_params()
    for k, v in theirs.items():
        assert k in ours, k
        assert ours[k] == v or (ours[k] is None and v is None), k
    extra = set(ours) - set(theirs)
    assert extra == {"n_threads", "dtype", "missing", "degenerate", "var_floor", "accel",
                     "inner_tol", "inner_max_iter", "mclust_compat"}
    import inspect
    names = list(inspect.signature(emgmm.GaussianMixture.__init__).parameters)[1:]
    sk_names = list(inspect.signature(SkGM.__init__).parameters)[1:]
    assert names[:len(sk_names)] == sk_names


def test_clone_keeps_params_drops_fit(X3):
    g = emgmm.GaussianMixture(3, covariance_type="diag", random_state=4, n_threads=1).fit(X3)
    c = clone(g)
    assert c.get_params() == g.get_params()
    assert not hasattr(c, "means_")
    with pytest.raises(emgmm.NotFittedError):
        c.predict(X3)


def test_pipeline_and_grid_search(X3):
    pipe = Pipeline([("scale", StandardScaler()),
                     ("gmm", emgmm.GaussianMixture(random_state=0))])
    pipe.fit(X3)
    assert pipe.predict(X3).shape == (len(X3),)
    grid = GridSearchCV(emgmm.GaussianMixture(random_state=0),
                        {"n_components": [1, 2, 3, 4], "covariance_type": ["full", "diag"]}, cv=3)
    grid.fit(X3)
    # the data has 3 well-separated blobs: more than 1 component must score better
    assert grid.best_params_["n_components"] >= 2
    scores = cross_val_score(emgmm.GaussianMixture(3, random_state=0), X3, cv=4)
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    one = cross_val_score(emgmm.GaussianMixture(1, random_state=0), X3, cv=4)
    assert scores.mean() > one.mean()


@pytest.mark.parametrize("ct", ["full", "tied", "diag", "spherical"])
def test_pickle_round_trip(X3, ct):
    g = emgmm.GaussianMixture(3, covariance_type=ct, random_state=1).fit(X3)
    h = pickle.loads(pickle.dumps(g))
    for a in ["weights_", "means_", "covariances_", "precisions_cholesky_", "lower_bounds_"]:
        np.testing.assert_array_equal(getattr(h, a), getattr(g, a))
    assert (h.n_iter_, h.converged_, h.lower_bound_) == (g.n_iter_, g.converged_, g.lower_bound_)
    np.testing.assert_array_equal(h.predict_proba(X3), g.predict_proba(X3))
    np.testing.assert_array_equal(h.score_samples(X3), g.score_samples(X3))
    # an unfitted estimator pickles too
    u = pickle.loads(pickle.dumps(emgmm.GaussianMixture(2)))
    assert u.n_components == 2 and not hasattr(u, "weights_")


def test_pickled_warm_start_continues(X3):
    g = emgmm.GaussianMixture(3, random_state=1, warm_start=True, max_iter=2, tol=0)
    with pytest.warns(emgmm.ConvergenceWarning):
        g.fit(X3)
    h = pickle.loads(pickle.dumps(g))
    with pytest.warns(emgmm.ConvergenceWarning):
        g.fit(X3)
        h.fit(X3)
    np.testing.assert_array_equal(h.means_, g.means_)
