"""Shared helpers of the Python package's tests.  The package is imported from
the build dir (PYTHONPATH set by tests/python/meson.build)."""
import os

import numpy as np
import pytest


def blobs(n=600, d=3, k=3, seed=7, dtype=np.float64, spread=6.0):
    """K well-separated Gaussian blobs with unequal covariances."""
    rng = np.random.RandomState(seed)
    centres = rng.randn(k, d) * spread
    lab = rng.randint(0, k, size=n)
    X = np.empty((n, d))
    for j in range(k):
        A = rng.randn(d, d) * 0.5 + np.eye(d) * (0.6 + 0.3 * j)
        idx = lab == j
        X[idx] = centres[j] + rng.randn(idx.sum(), d) @ A
    return X.astype(dtype), lab


@pytest.fixture
def X3():
    return blobs()[0]


def cli_path():
    p = os.environ.get("EMGMM_CLI")
    if not p or not os.path.exists(p):
        pytest.skip("EMGMM_CLI (the emgmm binary) not given")
    return p


def rel_err(a, b):
    """max |a - b| / max |b|: the relative difference of two arrays as a whole."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    scale = np.max(np.abs(b)) if b.size else 0.0
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(np.max(np.abs(a - b)))
