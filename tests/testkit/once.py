"""An expensive fixture built once per test run, shared by the pytest-xdist workers under a file lock."""

import fcntl
import os
import shutil


def built_once(tmp_path_factory, name, build):
    """``build(root)`` once per test run; every caller (in any xdist worker) gets the same ``root``.

    Under xdist the root lives in the run's common temporary folder and the
    first worker builds it under an exclusive lock while the others wait; a
    ``.built`` marker tells a finished build from one cut short.
    """
    uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = tmp_path_factory.getbasetemp().parent if uid else tmp_path_factory.getbasetemp()
    root = base / f"{name}-{uid or 'serial'}"
    with open(f"{root}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # blocks until the worker building it is done
        if not (root / ".built").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            build(root)
            (root / ".built").touch()
    return root
