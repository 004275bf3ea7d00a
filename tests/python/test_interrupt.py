"""Ctrl-C (SIGINT) stops a long fit between iterations within a second and
leaves the estimator as it was before the call; the GIL is released while
the C engine runs."""
import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest

import emgmm


def _big():
    rng = np.random.RandomState(0)
    return rng.randn(100_000, 16) + np.repeat(rng.randn(16, 16) * 3, 6_250, axis=0)


@pytest.mark.parametrize("verbose", [0, 1])
def test_keyboard_interrupt_leaves_estimator_unchanged(verbose, capsys):
    X = _big()
    g = emgmm.GaussianMixture(16, init_params="random_from_data", tol=0, max_iter=100_000,
                              random_state=0, verbose=verbose, verbose_interval=1000)
    # a previous fit whose state must survive the interrupted one
    g.set_params(max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        g.fit(X[:5000])
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(g).items()}
    model_before = g._model
    labels_before = g.predict(X[:1000])
    g.set_params(max_iter=100_000, warm_start=False)
    sent = []

    def fire():
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(1.5, fire)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        g.fit(X)
    stopped = time.monotonic()
    timer.join()
    assert sent, "the timer did not fire: the fit ended first"
    assert stopped - sent[0] < 1.0, f"took {stopped - sent[0]:.2f} s to stop"
    assert stopped - t0 > 1.0
    assert g._model is model_before
    after = vars(g)
    for k, v in before.items():
        if k in ("max_iter", "warm_start"):
            continue
        if isinstance(v, np.ndarray):
            np.testing.assert_array_equal(after[k], v, err_msg=k)
        else:
            assert after[k] == v or k == "_model", k
    assert set(after) == set(before)
    # and it still predicts with the old parameters
    np.testing.assert_array_equal(g.predict(X[:1000]), labels_before)


def test_gil_released_during_fit():
    """Another Python thread keeps running while a fit runs in C."""
    # iterations long next to the 5 ms tick (about 80 ms each on a quiet machine): were the
    # GIL held through each, the thread could tick only between them, once or twice each
    rng = np.random.RandomState(1)
    X = rng.randn(200_000, 32) + np.repeat(rng.randn(16, 32) * 3, 12_500, axis=0)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.005)

    th = threading.Thread(target=count)
    iters = 10
    g = emgmm.GaussianMixture(16, init_params="random_from_data", tol=0, max_iter=iters,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", emgmm.ConvergenceWarning)
        th.start()
        t0 = time.monotonic()
        g.fit(X)
        t1 = time.monotonic()
    done.set()
    th.join()
    inside = [t for t in ticks if t0 < t < t1]
    # one tick per ~5 ms if the thread runs; with the GIL held through each
    # iteration it could tick only between iterations, once or twice each
    assert len(inside) > 5 * iters, (len(inside), t1 - t0)


def test_threads_share_one_estimator():
    """Calls on one fitted estimator from several threads are serialised on
    its C model (the library allows one thread per model at a time) and give
    the single-threaded results."""
    rng = np.random.RandomState(1)
    X = rng.randn(20_000, 6)
    X[:10_000] += 4
    g = emgmm.GaussianMixture(4, random_state=0).fit(X)
    want_p = g.predict_proba(X)
    want_s = g.score_samples(X)
    errors, results = [], []

    def work(i):
        try:
            for _ in range(5):
                if i % 2:
                    results.append(("p", g.predict_proba(X)))
                else:
                    results.append(("s", g.score_samples(X)))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ths = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    assert not errors
    assert len(results) == 20
    for kind, r in results:
        np.testing.assert_array_equal(r, want_p if kind == "p" else want_s)
