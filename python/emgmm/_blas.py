"""The BLAS facts of the process and the generic-core check.

OpenBLAS picks its kernels when it is loaded, from OPENBLAS_CORETYPE or its
own CPU detection; on some virtual machines it detects a generic core
("Prescott") and runs several times slower than the CPU can.  The emgmm CLI
re-executes itself with the right OPENBLAS_CORETYPE; a Python package cannot
do that behind its user's back (OpenBLAS is already loaded, by numpy or by
this package), so emgmm warns once at import and says what to set, and
``emgmm.blas_corefix_reexec()`` re-runs the current script with it.
"""
import os
import sys
import warnings

from . import _emgmmc


class BlasCoreWarning(RuntimeWarning):
    """OpenBLAS runs generic kernels on a CPU that has faster ones."""


def threadpool_info():
    """A dict: corename (OpenBLAS's detected core), config, suggested_coretype
    (the OPENBLAS_CORETYPE that would run better kernels, or None when the
    core is right), openblas_coretype (the environment's setting or None),
    default_threads (what n_threads=None uses), openmp (built with OpenMP),
    corefix_from (the core detected before blas_corefix_reexec, or None),
    version (libemgmm's)."""
    info = dict(_emgmmc.blas_info())
    info["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE")
    info["corefix_from"] = os.environ.get("EMGMM_COREFIX_FROM")
    info["openmp"] = bool(info["openmp"])
    info["version"] = _emgmmc.version()
    return info


def _corefix_disabled():
    off = os.environ.get("EMGMM_NO_COREFIX", "")
    return bool(off) and off != "0"


def check_blas_core(stacklevel=2):
    """Warn (BlasCoreWarning) when OpenBLAS runs a generic core that a better
    OPENBLAS_CORETYPE would fix; returns the suggested core type or None.
    Silent when OPENBLAS_CORETYPE is set or EMGMM_NO_COREFIX=1."""
    if os.environ.get("OPENBLAS_CORETYPE") or _corefix_disabled():
        return None
    info = _emgmmc.blas_info()
    better = info["suggested_coretype"]
    if better:
        warnings.warn(
            f"OpenBLAS runs the generic '{info['corename']}' kernels on this CPU; start Python "
            f"with OPENBLAS_CORETYPE={better} in the environment for several times the speed "
            f"(or call emgmm.blas_corefix_reexec() at the top of a script; EMGMM_NO_COREFIX=1 "
            f"silences this)", BlasCoreWarning, stacklevel=stacklevel)
    return better


def blas_corefix_reexec():
    """Re-execute the running script (sys.executable with sys.argv) with the
    suggested OPENBLAS_CORETYPE, as the CLI does, when OpenBLAS picked a
    generic core.  Call it first thing in a script (nothing before it is
    kept).  Returns normally (doing nothing) when no fix applies, the fix was
    already applied, it is disabled (EMGMM_NO_COREFIX=1), or Python runs
    interactively."""
    if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("EMGMM_COREFIX_FROM"):
        return
    if _corefix_disabled() or not sys.argv or not sys.argv[0] or sys.argv[0] == "-c":
        return
    info = _emgmmc.blas_info()
    better = info["suggested_coretype"]
    if not better:
        return
    env = dict(os.environ, OPENBLAS_CORETYPE=better, EMGMM_COREFIX_FROM=info["corename"])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
