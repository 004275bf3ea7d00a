"""emgmm: Gaussian mixture models fitted by EM at the speed of the machine's BLAS.

``emgmm.GaussianMixture`` is a drop-in for ``sklearn.mixture.GaussianMixture``
(same constructor, methods and attributes) running on the libemgmm C engine.
Also: ``select`` (choose K and the covariance type by BIC/AIC), ``load`` (a
model file of the CLI or of ``GaussianMixture.save``), ``threadpool_info``
(BLAS core and threads).  See docs/python.md.
"""
from . import _emgmmc
from ._blas import BlasCoreWarning, blas_corefix_reexec, check_blas_core, threadpool_info
from ._mixture import (MCLUST_MODELS, ConvergenceWarning, EmgmmError, GaussianMixture,
                       NotFittedError, load)
from ._select import select

__version__ = _emgmmc.version()

__all__ = ["GaussianMixture", "select", "load", "threadpool_info", "blas_corefix_reexec",
           "check_blas_core", "BlasCoreWarning", "ConvergenceWarning", "NotFittedError",
           "EmgmmError", "MCLUST_MODELS", "__version__"]

check_blas_core(stacklevel=2)
