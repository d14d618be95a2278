"""The ``nnbasics`` package: its public names load their core module on first use, and the grader's BLAS threads.

``nnbasics grade`` imports the package before it launches its kernels; NumPy
must not load there (it would delay the launch), and when it does load in the
grader's process it gets one BLAS thread (``_env.one_blas_thread``).
"""

import importlib
import os
import subprocess
import sys

import pytest

import nnbasics


def _python(code, **env):
    environ = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env={**environ, **env}, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_importing_the_package_the_cli_or_the_grader_loads_no_numpy():
    code = "import sys, nnbasics, nnbasics.cli, nnbasics.grading.grade; print('numpy' in sys.modules)"
    assert _python(code) == "False"
    assert _python("import sys, nnbasics; nnbasics.sigmoid; print('numpy' in sys.modules)") == "True"


def test_every_public_name_is_its_core_modules_own():
    homes = {name: module for module, names in nnbasics._HOMES.items() for name in names}
    assert sorted([*homes, "draw"]) == nnbasics.__all__
    for name, module in homes.items():
        assert getattr(nnbasics, name) is getattr(importlib.import_module(f"nnbasics.{module}"), name)
    assert set(nnbasics.__all__) <= set(dir(nnbasics))
    namespace = {}
    exec("from nnbasics import *", namespace)
    assert {n for n in namespace if not n.startswith("__")} == set(nnbasics.__all__)
    with pytest.raises(AttributeError, match="no attribute 'sigmoidd'"):
        nnbasics.sigmoidd  # noqa: B018


THREADS = "import psutil; from nnbasics import _env; {call}; import numpy; print(psutil.Process().num_threads())"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS starts one thread on one core anyway")
def test_the_grader_asks_numpys_blas_for_one_thread_unless_the_user_chose():
    assert int(_python(THREADS.format(call="pass"))) > 1  # OpenBLAS's own choice: a thread per core
    assert _python(THREADS.format(call="_env.one_blas_thread()")) == "1"
    assert _python(THREADS.format(call="_env.one_blas_thread()"), OPENBLAS_NUM_THREADS="2") == "2"
