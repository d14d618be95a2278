"""Fixtures for the tests of the exercises: the mutation bank, and a temporary nbgrader course.

The course is generated once per test session (per xdist worker) by the real
``nbgrader generate_assignment`` in a temporary copy of solutions/; the
release-drift and autograde tests share it.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnbasics.grading import authoring

HERE = Path(__file__).resolve().parent


def _load_bank():
    spec = importlib.util.spec_from_file_location("nnbasics_exercise_mutants", HERE / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BANK = _load_bank()


def pytest_generate_tests(metafunc):
    if "assignment" in metafunc.fixturenames:
        metafunc.parametrize("assignment", BANK.ASSIGNMENTS)
    if "mutant" in metafunc.fixturenames:
        mutants = BANK.all_mutants()
        ids = [f"{a}-{fn}-{i}" for a, fn, i, _ in mutants]
        metafunc.parametrize("mutant", mutants, ids=ids)


@pytest.fixture(scope="session")
def bank():
    """The mutation bank module (tests/exercises/mutants.py)."""
    return BANK


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """A copy of the course as a clean clone has it, after the instructor's plain ``nbgrader generate_assignment``.

    exercises/ is copied as committed (with old timestamps) and must be regenerated, not skipped:
    the assignment has to reach the gradebook for autograde to work.
    """
    root = tmp_path_factory.mktemp("course")
    for folder in ("solutions", "exercises"):
        shutil.copytree(authoring.ROOT / folder, root / folder)
    shutil.copy(authoring.ROOT / "nbgrader_config.py", root)
    released = [authoring.notebook_path(root, "exercises", a) for a in BANK.ASSIGNMENTS]
    for path in released:
        os.utime(path, (0, 0))
    done = nbgrader(root, "generate_assignment", "*")
    assert done.returncode == 0, done.stderr[-2000:]
    assert all(path.stat().st_mtime > 0 for path in released), "generate_assignment skipped the committed exercises"
    return root


def nbgrader(course_dir, *args):
    """Run ``nbgrader ARGS`` in ``course_dir`` with the venv's bin/ on PATH; return the completed process."""
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def run_nbgrader():
    """The ``nbgrader(course_dir, *args)`` helper above."""
    return nbgrader
