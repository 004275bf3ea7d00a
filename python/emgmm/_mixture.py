"""emgmm.GaussianMixture: scikit-learn's GaussianMixture on the emgmm C engine.

The estimator keeps scikit-learn's constructor, methods, attributes and
semantics; the work is done by the C extension (_emgmmc) over libemgmm.  This
module is the thin layer above it: argument checking, conversions (once, and
only when the input is not already a C-contiguous float64/float32 array) and
the estimator protocol.
"""
import inspect
import numbers
import sys
import time
import warnings

import numpy as np

from . import _emgmmc

try:  # scikit-learn is optional: with it the class is a full sklearn estimator
    from sklearn.base import BaseEstimator as _BaseEstimator
    from sklearn.base import DensityMixin as _DensityMixin
    from sklearn.exceptions import ConvergenceWarning, NotFittedError

    HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised by the no-sklearn test
    HAVE_SKLEARN = False

    class ConvergenceWarning(UserWarning):
        """A fit ended before its lower bound converged (as scikit-learn's)."""

    class NotFittedError(ValueError, AttributeError):
        """The estimator is used before fit (as scikit-learn's)."""

    class _BaseEstimator:
        """get_params/set_params as scikit-learn's BaseEstimator."""

        @classmethod
        def _get_param_names(cls):
            sig = inspect.signature(cls.__init__)
            return sorted(p.name for p in sig.parameters.values()
                          if p.name != "self" and p.kind != p.VAR_KEYWORD)

        def get_params(self, deep=True):
            return {k: getattr(self, k) for k in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for k, v in params.items():
                if k not in valid:
                    raise ValueError(f"Invalid parameter {k!r} for estimator {self!r}. "
                                     f"Valid parameters are: {valid!r}.")
                setattr(self, k, v)
            return self

        def __repr__(self):
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class _DensityMixin:
        _estimator_type = "DensityEstimator"


__all__ = ["GaussianMixture", "ConvergenceWarning", "NotFittedError", "EmgmmError",
           "MCLUST_MODELS"]

EmgmmError = _emgmmc.Error

_SKLEARN_COV = {"full": _emgmmc.COV_FULL, "tied": _emgmmc.COV_TIED, "diag": _emgmmc.COV_DIAG,
                "spherical": _emgmmc.COV_SPHERICAL}
_STORAGE_NAME = {v: k for k, v in _SKLEARN_COV.items()}
# the fourteen mclust names (VVV = full, EEE = tied, VVI = diag, VII = spherical
# are the same models as scikit-learn's four), in mclust's order
MCLUST_MODELS = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV",
                 "VEV", "EVV", "VVV")
_COV = dict(_SKLEARN_COV, **{k: _emgmmc.STRUCTURES[k][0] for k in MCLUST_MODELS})
# covariance_type -> the scikit-learn shape its covariances_ are stored in
_STORAGE = {k: _STORAGE_NAME[_emgmmc.STRUCTURES[k][1]] for k in MCLUST_MODELS}
_STORAGE.update({k: k for k in _SKLEARN_COV})
_INIT = {"kmeans": _emgmmc.INIT_KMEANS, "k-means++": _emgmmc.INIT_KMEANSPP,
         "random": _emgmmc.INIT_RANDOM, "random_from_data": _emgmmc.INIT_RANDOM_FROM_DATA,
         "emem": _emgmmc.INIT_EMEM, "smem": _emgmmc.INIT_SMEM}
_ACCEL = {None: _emgmmc.ACCEL_NONE, "none": _emgmmc.ACCEL_NONE,
          "squarem": _emgmmc.ACCEL_SQUAREM, "anderson": _emgmmc.ACCEL_ANDERSON}
_MISSING = {"error": _emgmmc.MISSING_ERROR, "nan": _emgmmc.MISSING_NAN,
            "drop-empty-rows": _emgmmc.MISSING_DROP_EMPTY}
_DEGEN = {"reseed": _emgmmc.DEGEN_RESEED, "error": _emgmmc.DEGEN_ERROR}


def _is_sparse(X):
    try:
        import scipy.sparse
        return scipy.sparse.issparse(X)
    except ImportError:
        return False


def _seed_from(random_state):
    """A uint64 seed: an int is used as it is (the CLI's --seed), a RandomState
    or Generator draws one, None draws from numpy's global RandomState."""
    if random_state is None:
        return int(np.random.mtrand._rand.randint(0, 2**63, dtype=np.uint64))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0 or random_state >= 2**64:
            raise ValueError(f"random_state must be in [0, 2**64), got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63, dtype=np.uint64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63, dtype=np.uint64))
    raise ValueError(f"random_state must be None, an int, a numpy RandomState or Generator; "
                     f"got {random_state!r}")


def _interval(name, value, kind, lo, hi=None, lo_closed=True):
    ok_type = (isinstance(value, numbers.Integral) if kind is int
               else isinstance(value, numbers.Real)) and not isinstance(value, bool)
    ok = ok_type and (value >= lo if lo_closed else value > lo) and (hi is None or value <= hi)
    if not ok:
        what = "an int" if kind is int else "a float"
        rng = f"{'[' if lo_closed else '('}{lo}, {'inf)' if hi is None else str(hi) + ']'}"
        raise ValueError(f"The '{name}' parameter of GaussianMixture must be {what} in the "
                         f"range {rng}. Got {value!r} instead.")


def _choice(name, value, options):
    if not (value is None or isinstance(value, str)) or value not in options:
        shown = sorted(k for k in options if k is not None)
        none = " or None" if None in options else ""
        raise ValueError(f"The '{name}' parameter of GaussianMixture must be a str among "
                         f"{shown}{none}. Got {value!r} instead.")
    return options[value]


class GaussianMixture(_DensityMixin, _BaseEstimator):
    """Gaussian mixture fitted by EM on the emgmm C engine.

    A drop-in for ``sklearn.mixture.GaussianMixture``: the same constructor
    (names, defaults, meanings), methods and fitted attributes.  See
    docs/python.md for the differences in detail.

    Parameters (scikit-learn's)
    ---------------------------
    n_components, covariance_type ('full', 'tied', 'diag', 'spherical'), tol,
    reg_covar, max_iter, n_init, init_params ('kmeans', 'k-means++', 'random',
    'random_from_data'), weights_init, means_init, precisions_init,
    random_state, warm_start, verbose, verbose_interval: as scikit-learn's.
    An int random_state is the C library's seed itself (``emgmm fit --seed``).
    covariance_type also takes mclust's fourteen names (MCLUST_MODELS: 'EII',
    'VII', ..., 'VVV'); covariances_ and precisions_init then have the shape
    of the scikit-learn type that stores the structure ('spherical' for EII
    and VII, 'diag' for EEI, VEI, EVI, VVI, 'tied' for EEE, 'full' for the
    rest; see ``covariance_storage_``).  init_params also takes 'emem' (the
    em-EM search) and 'smem' (em-EM, then split-and-merge moves while they
    raise the lower bound): better optima from one fit, docs/search.md.

    Parameters (emgmm's own)
    ------------------------
    n_threads : int or None
        OpenMP threads for fit/predict; None = OpenMP's default.
    dtype : None, 'float32' or 'float64'
        None keeps float32 input as float32 (statistics in double) and turns
        anything else into float64; otherwise X is converted to that type.
    missing : 'error', 'nan' or 'drop-empty-rows'
        'error' (default): NaN is an error.  'nan': NaN marks a missing value
        and EM runs on the observed-data likelihood; 'drop-empty-rows' also
        leaves rows with no observed value out.  See ``impute``.
    degenerate : 'reseed' or 'error'
        What a fit does when a component empties or its covariance is not
        positive definite: 'reseed' (default) restarts it at the worst
        explained point; 'error' is scikit-learn's behaviour (ValueError).
    var_floor : float in [0, 1]
        Floor of each covariance diagonal relative to the feature's variance
        (0 = off).
    accel : None, 'squarem' or 'anderson'
        None (default): plain EM, as scikit-learn's.  'squarem': SQUAREM
        extrapolation of the EM map, 'anderson': Anderson acceleration of it
        (docs/accel.md); fewer data passes to the same optimum, the lower bound
        never decreasing (``n_passes_``).  On 8000 rows or more, Anderson's
        second iteration first fits every 4th row (a warm-up).
    inner_tol, inner_max_iter : float >= 0, int >= 1
        The inner iteration of the mclust structures VEI, VEE, EVE, VVE, VEV
        in each M-step (defaults sqrt(eps) and 1000, mclust's).  M-steps that
        reach inner_max_iter are counted in ``n_inner_failures_`` and warned
        about (ConvergenceWarning).
    mclust_compat : bool
        Reproduce mclust 6's VVE orientation step (not the exact M-step), to
        compare with mclust number for number (default False).
    """

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6,
                 max_iter=100, n_init=1, init_params="kmeans", weights_init=None,
                 means_init=None, precisions_init=None, random_state=None, warm_start=False,
                 verbose=0, verbose_interval=10, n_threads=None, dtype=None, missing="error",
                 degenerate="reseed", var_floor=0.0, accel=None,
                 inner_tol=1.4901161193847656e-08, inner_max_iter=1000, mclust_compat=False):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.n_threads = n_threads
        self.dtype = dtype
        self.missing = missing
        self.degenerate = degenerate
        self.var_floor = var_floor
        self.accel = accel
        self.inner_tol = inner_tol
        self.inner_max_iter = inner_max_iter
        self.mclust_compat = mclust_compat

    # ------------------------------------------------------------------ checks
    def _c_params(self, seed=0):
        """The constructor's settings checked and turned into the C params dict."""
        _interval("n_components", self.n_components, int, 1)
        _choice("covariance_type", self.covariance_type, _COV)
        _interval("tol", self.tol, float, 0.0)
        _interval("reg_covar", self.reg_covar, float, 0.0)
        _interval("max_iter", self.max_iter, int, 0)
        _interval("n_init", self.n_init, int, 1)
        init = _choice("init_params", self.init_params, _INIT)
        _interval("verbose", self.verbose, int, 0)
        _interval("verbose_interval", self.verbose_interval, int, 1)
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise ValueError(f"The 'warm_start' parameter of GaussianMixture must be an instance "
                             f"of 'bool'. Got {self.warm_start!r} instead.")
        if self.n_threads is not None:
            _interval("n_threads", self.n_threads, int, 1)
        missing = _choice("missing", self.missing, _MISSING)
        degen = _choice("degenerate", self.degenerate, _DEGEN)
        _interval("var_floor", self.var_floor, float, 0.0, 1.0)
        accel = _choice("accel", self.accel, _ACCEL)
        _interval("inner_tol", self.inner_tol, float, 0.0)
        _interval("inner_max_iter", self.inner_max_iter, int, 1)
        if not isinstance(self.mclust_compat, (bool, np.bool_)):
            raise ValueError(f"The 'mclust_compat' parameter of GaussianMixture must be an "
                             f"instance of 'bool'. Got {self.mclust_compat!r} instead.")
        if self.dtype is not None and np.dtype(self.dtype) not in (np.float32, np.float64):
            raise ValueError(f"The 'dtype' parameter of GaussianMixture must be None, float32 or "
                             f"float64. Got {self.dtype!r} instead.")
        return {"tol": float(self.tol), "reg_covar": float(self.reg_covar),
                "max_iter": max(1, int(self.max_iter)), "n_init": int(self.n_init),
                "init": init, "seed": seed,
                "n_threads": 0 if self.n_threads is None else int(self.n_threads),
                "missing": missing, "degenerate": degen, "var_floor": float(self.var_floor),
                "accel": accel, "inner_tol": float(self.inner_tol),
                "inner_max_iter": int(self.inner_max_iter),
                "mclust_compat": int(bool(self.mclust_compat))}

    def _check_X(self, X, *, fit):
        """X as an array the C side uses in place: C-contiguous float64 or
        float32 (converted once when it is not).  Records n_features_in_ and
        feature_names_in_ when fit (returned, set by the caller)."""
        if _is_sparse(X):
            raise TypeError("A sparse matrix was passed, but emgmm needs dense data: sparse input "
                            "is not supported (use X.toarray()).")
        names = None
        cols = getattr(X, "columns", None)
        if cols is not None and hasattr(X, "iloc"):
            if all(isinstance(c, str) for c in cols):
                names = np.asarray(list(cols), dtype=object)
        want = None if self.dtype is None else np.dtype(self.dtype)
        try:
            arr = np.asarray(X)
        except (TypeError, ValueError) as e:
            raise ValueError(f"X could not be converted to a numeric array: {e}") from None
        if np.iscomplexobj(arr):
            raise ValueError("Complex data not supported: X has complex values")
        if want is None:
            want = arr.dtype if arr.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        if arr.dtype != want or not arr.dtype.isnative:
            try:
                arr = arr.astype(want.newbyteorder("="))
            except (TypeError, ValueError) as e:  # numpy's kind: TypeError for a non-number object
                raise type(e)(f"X must be numeric: {e}") from None
        if arr.ndim != 2:
            raise ValueError(f"Expected 2D array, got {arr.ndim}D array instead. Reshape your "
                             f"data either using array.reshape(-1, 1) if your data has a single "
                             f"feature or "
                             f"array.reshape(1, -1) if it contains a single sample.")
        n, d = arr.shape
        if n < 1 or (fit and n < 2):
            raise ValueError(f"Found array with {n} sample(s) (shape={arr.shape}) while a minimum "
                             f"of {2 if fit else 1} is required.")
        if d < 1:
            raise ValueError(f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum "
                             f"of 1 is required.")
        if not arr.flags.c_contiguous or not arr.flags.aligned:
            arr = np.ascontiguousarray(arr)
        if not fit:
            self._check_fitted()
            if d != self.n_features_in_:
                raise ValueError(f"X has {d} features, but GaussianMixture is expecting "
                                 f"{self.n_features_in_} features as input.")
        return arr, names

    def _check_fitted(self):
        if getattr(self, "_model", None) is None:
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 f"'fit' with appropriate arguments before using this estimator.")

    def _check_weights(self, sample_weight, n):
        if sample_weight is None:
            return None
        w = np.asarray(sample_weight, dtype=np.float64)
        if w.ndim == 0:
            w = np.full(n, float(w))
        if w.shape != (n,):
            raise ValueError(f"sample_weight.shape == {w.shape}, expected ({n},)!")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
            raise ValueError("sample_weight must be finite, >= 0 and not all 0")
        return np.ascontiguousarray(w)

    def _user_parameters(self, K, d):
        """weights_init/means_init/precisions_init checked and shaped."""
        ct = _STORAGE[self.covariance_type]
        out = [None, None, None]
        if self.weights_init is not None:
            w = np.asarray(self.weights_init, dtype=np.float64)
            if w.shape != (K,):
                raise ValueError(f"The parameter 'weights' should have the shape of ({K},), "
                                 f"but got {w.shape}")
            out[0] = w
        if self.means_init is not None:
            m = np.asarray(self.means_init, dtype=np.float64)
            if m.shape != (K, d):
                raise ValueError(f"The parameter 'means' should have the shape of ({K}, {d}), "
                                 f"but got {m.shape}")
            out[1] = m
        if self.precisions_init is not None:
            p = np.asarray(self.precisions_init, dtype=np.float64)
            shape = {"full": (K, d, d), "tied": (d, d), "diag": (K, d), "spherical": (K,)}[ct]
            if p.shape != shape:
                raise ValueError(f"The parameter '{ct} precision' should have the shape of "
                                 f"{shape}, but got {p.shape}")
            if ct in ("diag", "spherical"):
                if np.any(p <= 0):
                    raise ValueError(f"'{ct} precision' should be positive")
                out[2] = 1.0 / p
            else:
                try:
                    np.linalg.cholesky(p)
                except np.linalg.LinAlgError:
                    raise ValueError(f"'{ct} precision' should be symmetric, positive-definite")
                out[2] = np.linalg.inv(p)
        return out

    # ---------------------------------------------------------------------- fit
    def fit(self, X, y=None, sample_weight=None, init_resp=None):
        """Estimate the parameters by EM (n_init starts, best lower bound
        kept).  sample_weight: optional per-sample weights (>= 0).
        init_resp: optional starting responsibilities, shape (n_samples,
        n_components) (entries >= 0; a row need not sum to 1) or a vector of
        labels 0..n_components-1; the fit then begins with an M-step from
        them (mclust's me(); the library's EMGMM_INIT_RESP) instead of
        init_params.  Returns self.  Ctrl-C stops between iterations and
        leaves the estimator as it was before the call."""
        self._fit(X, sample_weight, init_resp)
        return self

    def fit_predict(self, X, y=None, sample_weight=None, init_resp=None):
        """fit, then the labels from a final E-step with the fitted
        parameters (as scikit-learn's, always consistent with predict)."""
        X, _ = self._fit(X, sample_weight, init_resp)
        return self._model.predict(X).astype(np.int64)

    def _check_resp(self, init_resp, n, K):
        """init_resp as a C-contiguous float64 (n, K) array."""
        r = np.asarray(init_resp)
        if r.ndim == 1:
            if r.shape[0] != n or not np.issubdtype(r.dtype, np.number) or \
                    np.any(r != np.floor(r)) or np.any(r < 0) or np.any(r >= K):
                raise ValueError(f"init_resp: a label vector must hold {n} integers in "
                                 f"0..{K - 1}")
            one_hot = np.zeros((n, K))
            one_hot[np.arange(n), r.astype(np.int64)] = 1.0
            return one_hot
        r = np.ascontiguousarray(r, dtype=np.float64)
        if r.shape != (n, K):
            raise ValueError(f"init_resp must have shape ({n}, {K}) or ({n},), got {r.shape}")
        if not np.all(np.isfinite(r)) or np.any(r < 0):
            raise ValueError("init_resp: responsibilities must be finite and >= 0")
        return r

    def _fit(self, X, sample_weight, init_resp=None):
        params = self._c_params()
        Xc, names = self._check_X(X, fit=True)
        n, d = Xc.shape
        K = self.n_components
        if n < K:
            raise ValueError(f"Expected n_samples >= n_components but got n_components = {K}, "
                             f"n_samples = {n}")
        sw = self._check_weights(sample_weight, n)
        resp = None if init_resp is None else self._check_resp(init_resp, n, K)
        if resp is not None and any(v is not None for v in (self.weights_init, self.means_init,
                                                            self.precisions_init)):
            raise ValueError("init_resp cannot be given with weights_init, means_init or "
                             "precisions_init")
        params["seed"] = _seed_from(self.random_state)
        ct = _COV[self.covariance_type]
        prev = getattr(self, "_model", None)
        warm = bool(self.warm_start) and resp is None and prev is not None and \
            getattr(self, "n_features_in_", None) == d and \
            prev.state()["weights"].shape[0] == K and self._fitted_cov == self.covariance_type
        base = None
        if warm:
            base = prev.copy()
        elif any(v is not None for v in (self.weights_init, self.means_init, self.precisions_init)):
            base = self._user_init(Xc, sw, params, K, d, ct)
        if base is not None:
            params["init"] = _emgmmc.INIT_USER
        n_init = 1 if warm else params["n_init"]
        best, best_lb, runs, best_r = None, -np.inf, [], 0
        for r in range(n_init):
            m = base.copy() if base is not None else _emgmmc.Model(K, d, ct)
            t0 = time.time()
            if self.verbose:
                print(f"Initialization {r}")
            m.fit_init(Xc, sw, params, r, resp)
            if self.max_iter > 0:
                if self.verbose:
                    self._verbose_loop(m, Xc, sw, params, t0)
                else:
                    m.run(Xc, sw, params)
            st = m.state()
            lb = st["lower_bound"]
            if self.verbose:
                if self.verbose >= 2:
                    print(f"Initialization converged: {st['converged']}\t time lapse "
                          f"{time.time() - t0:.5f}s\t ll {lb:.5f}")
                else:
                    print(f"Initialization converged: {st['converged']}")
            runs.append(np.array(st["lower_bounds"], dtype=np.float64))
            if best is None or lb > best_lb:
                best, best_lb, best_r = m, lb, r
        if self.n_threads is not None:
            best.set_n_threads(int(self.n_threads))
        self._set_fitted(best, d, names)
        # emgmm's own: every initialisation's lower bounds, and which was kept
        self.restart_lower_bounds_ = runs
        self.best_init_ = best_r
        self._fit_seed = params["seed"]  # recorded in the model file by save()
        if self.n_inner_failures_:
            warnings.warn(f"{self.covariance_type}: the inner iteration of "
                          f"{self.n_inner_failures_} M-step(s) stopped at inner_max_iter="
                          f"{self.inner_max_iter} before reaching inner_tol={self.inner_tol}",
                          ConvergenceWarning)
        if not self.converged_ and self.max_iter > 0:
            warnings.warn("Best performing initialization did not converge. Try different init "
                          "parameters, or increase max_iter, tol, or check for degenerate data.",
                          ConvergenceWarning)
        return Xc, sw

    def _verbose_loop(self, m, Xc, sw, params, t0):
        prev = -np.inf
        t_iter = t0
        for it in range(1, self.max_iter + 1):
            lb = m.iterate(Xc, sw, params)
            conv = m.converged(params["tol"])
            if it % self.verbose_interval == 0:
                if self.verbose >= 2:
                    now = time.time()
                    print(f"  Iteration {it}\t time lapse {now - t_iter:.5f}s\t ll change "
                          f"{lb - prev:.5f}")
                    t_iter = now
                else:
                    print(f"  Iteration {it}")
                sys.stdout.flush()
            prev = lb
            if conv:
                break

    def _user_init(self, Xc, sw, params, K, d, ct):
        """scikit-learn's user initialisation: the init method's parameters,
        overridden by weights_init / means_init / precisions_init."""
        w, mu, cov = self._user_parameters(K, d)
        if w is None or mu is None or cov is None:
            m0 = _emgmmc.Model(K, d, ct)
            m0.fit_init(Xc, sw, params, 0)
            st = m0.state()
            w = st["weights"] if w is None else w
            mu = st["means"] if mu is None else mu
            cov = st["covariances"] if cov is None else cov
        m = _emgmmc.Model(K, d, ct)
        m.set_parameters(w, mu, cov)
        return m

    def _set_fitted(self, model, d, names):
        st = model.state()
        self._model = model
        self._fitted_cov = self.covariance_type
        self.weights_ = st["weights"]
        self.means_ = st["means"]
        self.covariances_ = st["covariances"]
        self.precisions_cholesky_ = st["precisions_cholesky"]
        self.covariance_storage_ = _STORAGE[self.covariance_type]
        pc = self.precisions_cholesky_
        if self.covariance_storage_ in ("full", "tied"):
            self.precisions_ = pc @ np.swapaxes(pc, -1, -2)
        else:
            self.precisions_ = pc ** 2
        self.converged_ = bool(st["converged"])
        self.n_iter_ = int(st["n_iter"])
        self.lower_bound_ = float(st["lower_bound"])
        self.lower_bounds_ = st["lower_bounds"]
        self.n_features_in_ = d
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.n_reseeds_ = int(st["n_reseeds"])
        self.n_passes_ = int(st["n_passes"])
        self.n_inner_failures_ = int(st["inner_failures"])
        self.max_inner_iter_ = int(st["inner_max_iter"])

    # ------------------------------------------------------------------ predict
    def _X(self, X):
        return self._check_X(X, fit=False)[0]

    def predict(self, X):
        """The most probable component of each sample."""
        return self._model_checked().predict(self._X(X)).astype(np.int64)

    def predict_proba(self, X):
        """Posterior probability of each component, shape (n_samples, n_components)."""
        return self._model_checked().predict_proba(self._X(X))

    def score_samples(self, X):
        """Log-density of each sample under the mixture."""
        return self._model_checked().score_samples(self._X(X))

    def score(self, X, y=None):
        """Mean log-likelihood of X."""
        return float(self.score_samples(X).mean())

    def bic(self, X):
        """Bayesian information criterion on X (lower is better)."""
        Xc = self._X(X)
        n = Xc.shape[0]
        return -2.0 * self.score(Xc) * n + self._n_parameters() * np.log(n)

    def aic(self, X):
        """Akaike information criterion on X (lower is better)."""
        Xc = self._X(X)
        return -2.0 * self.score(Xc) * Xc.shape[0] + 2 * self._n_parameters()

    def icl(self, X):
        """Integrated completed likelihood on X, in the sign of bic (lower is
        better): bic(X) + 2·Σ_i −log max_k r_ik (mclust's icl() is minus
        this)."""
        return float(self._model_checked().icl(self._X(X)))

    def _n_parameters(self):
        return int(self._model_checked().state()["n_parameters"])

    def _model_checked(self):
        self._check_fitted()
        return self._model

    def sample(self, n_samples=1):
        """Draw n_samples points; returns (X, y), grouped by component as
        scikit-learn's.  Seeded from random_state (an int gives the same draw
        every call)."""
        m = self._model_checked()
        if not isinstance(n_samples, numbers.Integral) or n_samples < 1:
            raise ValueError(f"Invalid value for 'n_samples': {n_samples} . The sampling "
                             f"requires at least one sample.")
        x, comp = m.sample(int(n_samples), _seed_from(self.random_state))
        order = np.argsort(comp, kind="stable")
        return x[order], comp[order].astype(np.int64)

    def impute(self, X, draws=False, random_state=None):
        """X with its missing values (NaN) filled: by the conditional
        expectation under the fitted mixture (draws=False), or by one draw
        from the conditional distribution (draws=True, seeded by
        random_state).  Observed values are kept.  Returns a new float64
        array."""
        m = self._model_checked()
        Xc = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
        if Xc.ndim != 2 or Xc.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have shape (n, {self.n_features_in_}), got {Xc.shape}")
        return m.impute(Xc, bool(draws), _seed_from(random_state) if draws else 0)

    # ------------------------------------------------------------ save / load
    def save(self, path):
        """Write the fitted model to PATH as the CLI's model file, read by
        `emgmm predict` and emgmm.load with the parameters bit for bit: JSON,
        or HDF5 when PATH ends in .h5/.hdf5 (docs/model-format.md; needs a
        build with HDF5, which `emgmm info` reports)."""
        m = self._model_checked()
        params = self._c_params(seed=getattr(self, "_fit_seed", 0))
        m.save(str(path), params)

    # -------------------------------------------------------------- pickling
    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__.copy()
        state = dict(state)
        state.pop("_model", None)
        return state

    def __setstate__(self, state):
        if hasattr(super(), "__setstate__"):
            super().__setstate__(state)
        else:
            self.__dict__.update(state)
        if "weights_" in state:
            self._rebuild()

    def _rebuild(self):
        """The C model from the fitted attributes (pickle, load)."""
        K = self.weights_.shape[0]
        m = _emgmmc.Model(K, self.means_.shape[1], _COV[self._fitted_cov])
        m.set_parameters(self.weights_, self.means_, self.covariances_)
        lbs = np.asarray(getattr(self, "lower_bounds_", []), dtype=np.float64)
        if lbs.size:
            m.set_fit_state(lbs, bool(self.converged_))
        m.set_missing(_MISSING.get(self.missing, 0))
        if self.n_threads is not None:
            m.set_n_threads(int(self.n_threads))
        self._model = m

    def _more_tags(self):
        return {"allow_nan": self.missing != "error"}


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def _settings_from_file(path):
    """The fit settings a model file records, as a dict (JSON fields or,
    for an HDF5 model, root attributes read with h5py when it is installed;
    without h5py an HDF5 model loads with the constructor's defaults)."""
    import json

    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if head != _HDF5_SIGNATURE:
                return json.loads(head + f.read())
    except (OSError, ValueError):
        return {}
    try:
        import h5py
    except ImportError:
        return {}
    doc = {}
    try:
        with h5py.File(path, "r") as f:
            for k, v in f.attrs.items():
                if isinstance(v, bytes):
                    v = v.decode()
                elif isinstance(v, np.bool_):
                    v = bool(v)
                elif isinstance(v, np.integer):
                    v = int(v)
                elif isinstance(v, np.floating):
                    v = float(v)
                doc[k] = v
    except (OSError, ValueError):
        return {}
    return doc


def load(path):
    """A fitted GaussianMixture from a model file written by the CLI or
    GaussianMixture.save (parameters bit for bit; the fit settings the file
    records, tol, reg_covar, max_iter, n_init, init and seed, become the
    constructor's).  lower_bounds_ holds only the final lower bound.
    PATH may be JSON or HDF5 (recognised by content); h5py is needed only
    to read an HDF5 file's fit settings, not its parameters."""
    model, info = _emgmmc.load(str(path))
    st = model.state()
    K, d = st["means"].shape
    cov = _STORAGE_NAME.get(st["structure"]) or \
        next(k for k in MCLUST_MODELS if _COV[k] == st["structure"])
    est = GaussianMixture(n_components=K, covariance_type=cov)
    doc = _settings_from_file(path)
    for key in ("tol", "reg_covar", "max_iter", "n_init"):
        if isinstance(doc.get(key), (int, float)):
            setattr(est, key, doc[key])
    if doc.get("init") in _INIT:
        est.init_params = doc["init"]
    if isinstance(doc.get("seed"), int):
        est.random_state = doc["seed"]
        est._fit_seed = doc["seed"]
    if doc.get("degenerate") in _DEGEN:
        est.degenerate = doc["degenerate"]
    if isinstance(doc.get("var_floor"), (int, float)):
        est.var_floor = float(doc["var_floor"])
    est._set_fitted(model, d, None)
    est.converged_ = bool(info["converged"])
    est.n_iter_ = int(info["n_iter"])
    lb = info["lower_bound"]
    est.lower_bound_ = -np.inf if lb is None else float(lb)
    est.lower_bounds_ = np.array([] if lb is None else [lb], dtype=np.float64)
    return est

