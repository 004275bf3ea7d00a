"""emgmm.select: fit every (K, covariance type) pair, rank by BIC, AIC or ICL."""
import numpy as np

from ._mixture import MCLUST_MODELS, GaussianMixture

_COLUMNS = ["rank", "n_components", "covariance_type", "bic", "aic", "icl", "lower_bound",
            "converged", "n_iter", "n_parameters", "error"]


def select(X, n_components=range(1, 13), covariance_types=("full", "tied", "diag", "spherical"),
           criterion="bic", **params):
    """Fit a GaussianMixture for every K in n_components and every type in
    covariance_types (other constructor arguments in **params) and rank the
    fits by criterion ('bic', 'aic' or 'icl', lower is better, scikit-learn's
    sign; mclust's BIC and ICL are minus these).  covariance_types may name
    mclust's structures; "mclust" stands for all fourteen (MCLUST_MODELS).

    Returns (table, best): table a pandas DataFrame when pandas imports, else
    a list of dicts, one row per fit, best first, with columns rank,
    n_components, covariance_type, bic, aic, icl, lower_bound, converged, n_iter,
    n_parameters and error (the message of a fit that failed, which ranks
    last with NaN scores); best the fitted estimator of rank 1.
    Raises ValueError when no fit succeeds or an argument is invalid."""
    if criterion not in ("bic", "aic", "icl"):
        raise ValueError(f"criterion must be 'bic', 'aic' or 'icl', got {criterion!r}")
    if isinstance(covariance_types, str):
        covariance_types = MCLUST_MODELS if covariance_types == "mclust" else (covariance_types,)
    ks = list(n_components) if not np.isscalar(n_components) else [n_components]
    if not ks or not covariance_types:
        raise ValueError("n_components and covariance_types must not be empty")
    X = np.asarray(X) if not hasattr(X, "iloc") else X
    rows, fits = [], []
    for ct in covariance_types:
        for k in ks:
            est = GaussianMixture(n_components=k, covariance_type=ct, **params)
            row = {"n_components": k, "covariance_type": ct}
            try:
                est.fit(X)
                # BIC and AIC from one score, as est.bic and est.aic compute them (the same
                # numbers, one data pass instead of two)
                Xc = est._X(X)
                n, p, s = Xc.shape[0], est._n_parameters(), est.score(Xc)
                row.update(bic=-2.0 * s * n + p * np.log(n), aic=-2.0 * s * n + 2 * p,
                           icl=est.icl(Xc),
                           lower_bound=est.lower_bound_,
                           converged=est.converged_, n_iter=est.n_iter_,
                           n_parameters=est._n_parameters(), error=None)
                fits.append((row, est))
            except ValueError as e:
                if "parameter of GaussianMixture" in str(e):
                    raise
                row.update(bic=np.nan, aic=np.nan, icl=np.nan, lower_bound=np.nan, converged=False,
                           n_iter=0, n_parameters=0, error=str(e))
                fits.append((row, None))
    ok = [f for f in fits if f[1] is not None]
    if not ok:
        raise ValueError("no fit succeeded: " + "; ".join(r["error"] for r, _ in fits))
    order = sorted(range(len(fits)), key=lambda i: (fits[i][1] is None,
                                                    fits[i][0][criterion]
                                                    if fits[i][1] is not None else 0.0, i))
    for rank, i in enumerate(order, 1):
        fits[i][0]["rank"] = rank
        rows.append({c: fits[i][0][c] for c in _COLUMNS})
    best = fits[order[0]][1]
    try:
        import pandas as pd
        return pd.DataFrame(rows, columns=_COLUMNS), best
    except ImportError:
        return rows, best
