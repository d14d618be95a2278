"""Fixtures for the tests of the exercises: the mutation bank, and a temporary nbgrader course.

The course is released once per test run (shared by the xdist workers) by the
instructor's real ``nbgrader generate_assignment`` in a temporary copy of the
checkout; the release-drift test reads it and each autograde test grades in
its own copy.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from testkit import mutants
from testkit.once import built_once

from nnbasics._env import with_scripts_on_path
from nnbasics.assignments import ASSIGNMENTS
from nnbasics.grading import authoring

HERE = Path(__file__).resolve().parent


BANK = mutants


def pytest_generate_tests(metafunc):
    if "assignment" in metafunc.fixturenames:
        metafunc.parametrize("assignment", ASSIGNMENTS)
    if "mutant" in metafunc.fixturenames:
        mutants = BANK.all_mutants()
        ids = [f"{a}-{fn}-{i}" for a, fn, i, _ in mutants]
        metafunc.parametrize("mutant", mutants, ids=ids)


@pytest.fixture(scope="session")
def bank():
    """The mutation bank module (tests/testkit/mutants.py)."""
    return BANK


def _instructor_release(root):
    """Lay out the course as a clean clone has it and run the instructor's plain ``nbgrader generate_assignment``.

    exercises/ is copied as committed (with old timestamps) and must be regenerated, not skipped:
    the assignment has to reach the gradebook for autograde to work.
    """
    for folder in ("solutions", "exercises"):
        shutil.copytree(authoring.ROOT / folder, root / folder)
    shutil.copy(authoring.ROOT / "nbgrader_config.py", root)
    released = [authoring.notebook_path(root, "exercises", a) for a in ASSIGNMENTS]
    for path in released:
        os.utime(path, (0, 0))
    done = nbgrader(root, "generate_assignment", "*")
    assert done.returncode == 0, done.stderr[-2000:]
    assert all(path.stat().st_mtime > 0 for path in released), "generate_assignment skipped the committed exercises"
    (root / "released.ok").touch()


@pytest.fixture(scope="session")
def course(tmp_path_factory):
    """The released course (read-only for tests: copy it before grading in it).

    Built once per test run: under xdist the workers share it through the run's
    common temporary folder, the first one building it under an exclusive lock.
    """
    return built_once(tmp_path_factory, "exercises-course", _instructor_release)


@pytest.fixture
def course_copy(course, tmp_path):
    """A private copy of the released course (gradebook included) to autograde in."""
    return Path(shutil.copytree(course, tmp_path / "course"))


def nbgrader(course_dir, *args):
    """Run ``nbgrader ARGS`` in ``course_dir`` with the venv's bin/ on PATH; return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_dir,
        env=with_scripts_on_path(),
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def run_nbgrader():
    """The ``nbgrader(course_dir, *args)`` helper above."""
    return nbgrader
