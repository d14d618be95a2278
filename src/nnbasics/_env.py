"""The environment of the processes nnbasics starts: this installation's scripts found first on PATH.

nbgrader shells out to ``alembic`` when it creates a gradebook, and the
benchmarks and tests run ``nbgrader`` and ``mkdocs``: all of them must be the
ones installed beside the running Python (a venv's ``bin/``, or ``Scripts\\``
on Windows), even when that folder is not on the caller's PATH.
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
