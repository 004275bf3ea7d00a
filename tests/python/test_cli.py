"""The model file is the CLI's: a model fitted in Python is read by
`emgmm predict` and back, bit for bit; the same fit through the CLI and
through Python writes the same file, byte for byte."""
import json
import subprocess
import warnings

import numpy as np
import pytest

from conftest import blobs, cli_path

import emgmm

TYPES = ["full", "tied", "diag", "spherical"]


def run(*args):
    r = subprocess.run([cli_path(), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


@pytest.mark.parametrize("ct", TYPES)
def test_python_and_cli_same_model_file(tmp_path, ct):
    X, _ = blobs(n=700, d=3, k=3, seed=2)
    np.save(tmp_path / "x.npy", X)
    g = emgmm.GaussianMixture(3, covariance_type=ct, random_state=11, n_init=2).fit(X)
    g.save(tmp_path / "py.json")
    # Python's default start is scikit-learn's kmeans; the CLI's is smem
    run("fit", tmp_path / "x.npy", "-k", 3, "--covariance", ct, "--seed", 11, "--n-init", 2,
        "--init", "kmeans", "-o", tmp_path / "cli.json", "-q")
    assert (tmp_path / "py.json").read_bytes() == (tmp_path / "cli.json").read_bytes()


@pytest.mark.parametrize("ct", TYPES)
def test_round_trip_bit_for_bit(tmp_path, ct):
    X, _ = blobs(n=500, d=4, k=3, seed=3)
    np.save(tmp_path / "x.npy", X)
    g = emgmm.GaussianMixture(3, covariance_type=ct, random_state=1, tol=1e-6).fit(X)
    g.save(tmp_path / "m.json")
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["format"] == "emgmm-model" and doc["covariance_type"] == ct
    h = emgmm.load(tmp_path / "m.json")
    for a in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
        np.testing.assert_array_equal(getattr(h, a), getattr(g, a))
    assert (h.n_iter_, h.converged_, h.lower_bound_) == (g.n_iter_, g.converged_, g.lower_bound_)
    assert (h.covariance_type, h.tol, h.random_state) == (ct, 1e-6, 1)
    np.testing.assert_array_equal(h.predict_proba(X), g.predict_proba(X))
    # the CLI predicts with the Python-saved model exactly as Python does
    run("predict", tmp_path / "m.json", tmp_path / "x.npy", "-o", tmp_path / "lab.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "lab.npy"), g.predict(X))
    run("predict", tmp_path / "m.json", tmp_path / "x.npy", "--proba", "-o", tmp_path / "p.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), g.predict_proba(X))
    # and continues the fit from it as Python's warm start does
    run("fit", tmp_path / "x.npy", "--init", tmp_path / "m.json", "--covariance", ct, "--tol", 0,
        "--max-iter", 3, "-o", tmp_path / "m3.json", "-q")
    c = emgmm.load(tmp_path / "m3.json")
    g.set_params(warm_start=True, tol=0, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        g.fit(X)
    np.testing.assert_array_equal(c.means_, g.means_)
    np.testing.assert_array_equal(c.covariances_, g.covariances_)


def test_load_errors(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"format": "emgmm-model", "version": 1, "covariance_type": "full"}')
    with pytest.raises(ValueError, match="n_components|field"):
        emgmm.load(p)
    with pytest.raises(ValueError):
        emgmm.load(tmp_path / "missing.json")


def test_save_is_atomic_on_error(tmp_path):
    X, _ = blobs(n=200)
    g = emgmm.GaussianMixture(2, random_state=0).fit(X)
    with pytest.raises(OSError):
        g.save(tmp_path / "no" / "such" / "dir" / "m.json")
    assert not (tmp_path / "no").exists()


def test_saved_seed_is_the_seed_used(tmp_path):
    """With random_state None or a RandomState the file records the seed the
    fit drew, so `emgmm fit --seed S` reproduces the model."""
    X, _ = blobs(n=300, d=2, k=2, seed=4)
    np.save(tmp_path / "x.npy", X)
    g = emgmm.GaussianMixture(2, random_state=np.random.RandomState(3)).fit(X)
    g.save(tmp_path / "py.json")
    seed = json.loads((tmp_path / "py.json").read_text())["seed"]
    run("fit", tmp_path / "x.npy", "-k", 2, "--seed", seed, "--init", "kmeans",
        "-o", tmp_path / "cli.json", "-q")
    assert (tmp_path / "py.json").read_bytes() == (tmp_path / "cli.json").read_bytes()


def _hdf5_build():
    r = subprocess.run([cli_path(), "info"], capture_output=True, text=True)
    return any(l.startswith("hdf5:") and not l.endswith(": off") for l in r.stdout.splitlines())


@pytest.mark.parametrize("ct", ["full", "diag", "VEV"])
def test_hdf5_model_python_h5py_and_cli(tmp_path, ct):
    """save("m.h5") writes the CLI's HDF5 model: h5py reads scikit-learn's
    attribute names from it, emgmm.load and the CLI read it back bit for
    bit, and the JSON and HDF5 files of one model give the same loads."""
    if not _hdf5_build():
        pytest.skip("this build has no HDF5 (emgmm info: hdf5: off)")
    h5py = pytest.importorskip("h5py")
    X, _ = blobs(n=600, d=4, k=3, seed=5)
    np.save(tmp_path / "x.npy", X)
    g = emgmm.GaussianMixture(3, covariance_type=ct, random_state=4, tol=1e-5).fit(X)
    g.save(tmp_path / "m.h5")
    g.save(tmp_path / "m.json")
    assert (tmp_path / "m.h5").read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert f.attrs["format"] in ("emgmm-model", b"emgmm-model")
        assert int(f.attrs["n_components"]) == 3 and int(f.attrs["n_features"]) == 4
        for name, attr in [("weights", "weights_"), ("means", "means_"),
                           ("covariances", "covariances_"),
                           ("precisions_cholesky", "precisions_cholesky_")]:
            np.testing.assert_array_equal(f[name][()], getattr(g, attr))
    for path in ("m.h5", "m.json"):
        h = emgmm.load(tmp_path / path)
        for a in ["weights_", "means_", "covariances_", "precisions_cholesky_"]:
            np.testing.assert_array_equal(getattr(h, a), getattr(g, a))
        assert (h.n_iter_, h.converged_, h.lower_bound_) == (g.n_iter_, g.converged_,
                                                             g.lower_bound_)
        assert (h.covariance_type, h.tol, h.random_state) == (ct, 1e-5, 4)
        np.testing.assert_array_equal(h.predict_proba(X), g.predict_proba(X))
    run("predict", tmp_path / "m.h5", tmp_path / "x.npy", "--proba", "-o", tmp_path / "p.h5")
    with h5py.File(tmp_path / "p.h5", "r") as f:
        (name,) = list(f.keys())
        np.testing.assert_array_equal(f[name][()], g.predict_proba(X))
