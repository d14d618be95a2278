"""Fixtures of the report's tests: the synthetic class of ``testkit.report_class``, graded once per session.

The real ``grade-class ... --report`` grades it (ten notebooks, two jobs)
under a file lock, in a folder the session's xdist workers share; the tests
read what it wrote and build other reports from its journal, never grading
it again.
"""

import json
import subprocess
import sys

import pytest
from testkit.report_class import build_class
from testkit.site import shared_once

from nnbasics._env import with_scripts_on_path


@pytest.fixture(scope="session")
def env(tmp_path_factory):
    """The command's environment: the venv's scripts on PATH, a cache private to this test session."""
    cache = tmp_path_factory.getbasetemp().parent / "grader-cache"
    environ = with_scripts_on_path(XDG_CACHE_HOME=str(cache))
    environ.pop("NNBASICS_SOURCE_DIR", None)
    return environ


@pytest.fixture(scope="session")
def nnb(env):
    """``nnb(*args, cwd=None)``: run the ``nnbasics`` command; returns the CompletedProcess (text)."""

    def run(*args, cwd=None, timeout=600):
        cmd = [sys.executable, "-m", "nnbasics.cli", *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)

    return run


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory, nnb):
    """The class above graded once per session by ``grade-class ... --report``: a dict of its paths and run."""

    def grade(root):
        sub = build_class(root)
        proc = nnb("grade-class", sub, "--jobs", "2", "--out", root / "class-grades.csv", "--report", root / "report")
        return {"returncode": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}

    root, state = shared_once(tmp_path_factory, "nnbasics-report-class", grade)
    assert "error" not in state, state.get("error")
    return {
        "root": root,
        "submitted": root / "submitted",
        "csv": root / "class-grades.csv",
        "report": root / "report",
        **state,
    }


@pytest.fixture(scope="session")
def report_json(graded_class):
    """The report.json that grade-class --report wrote."""
    return json.loads((graded_class["report"] / "report.json").read_text(encoding="utf-8"))
