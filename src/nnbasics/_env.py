"""The environment of the processes nnbasics starts: this installation's scripts found first on PATH.

nbgrader shells out to ``alembic`` when it creates a gradebook, and the
benchmarks and tests run ``nbgrader`` and ``mkdocs``: all of them must be the
ones installed beside the running Python (a venv's ``bin/``, or ``Scripts\\``
on Windows), even when that folder is not on the caller's PATH.

The grader's own processes and its kernels also ask NumPy's BLAS for one
thread (``BLAS_THREADS``): they run side by side, a process per notebook.
"""

import os
import sys


def scripts_dir():
    """The folder holding this Python's console scripts."""
    return os.path.dirname(sys.executable)


def with_scripts_on_path(env=None, **extra):
    """A copy of ``env`` (default: ``os.environ``) with ``scripts_dir()`` first on PATH, plus ``extra``."""
    env = dict(os.environ if env is None else env, **extra)
    path = env.get("PATH", "")
    if scripts_dir() not in path.split(os.pathsep):
        env["PATH"] = scripts_dir() + (os.pathsep + path if path else "")
    return env


# the variables OpenBLAS, OpenMP and MKL read, once, when NumPy loads them
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread():
    """Give NumPy's BLAS one thread in this process and its children, unless the user chose a number.

    For ``nnbasics grade``, whose processes (one per notebook, and a kernel
    each) do no heavy linear algebra: OpenBLAS would start a thread per core
    when NumPy loads (twice the CPU of the import itself here, 0.15 s against
    0.07 s), and those threads would compete with the kernels for the cores.
    Too late once NumPy is loaded, so it is called before.
    """
    for name in BLAS_THREADS:
        os.environ.setdefault(name, "1")
