"""Fixtures for the grader's end-to-end tests: a private cache and the real command."""

import json
import subprocess
import sys

import pytest

from nnbasics._env import with_scripts_on_path


@pytest.fixture(scope="session")
def grader_env(tmp_path_factory):
    """Environment for the command: a private cache, the venv's scripts on PATH."""
    env = with_scripts_on_path(XDG_CACHE_HOME=str(tmp_path_factory.getbasetemp().parent / "grader-cache"))
    env.pop("NNBASICS_SOURCE_DIR", None)
    return env


@pytest.fixture(scope="session")
def run(grader_env):
    """Run ``nnbasics ARGS`` as a learner would; returns the CompletedProcess (text)."""

    def run(*args, cwd=None, timeout=600):
        return subprocess.run(
            [sys.executable, "-m", "nnbasics.cli", *map(str, args)],
            capture_output=True,
            text=True,
            env=grader_env,
            cwd=cwd,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def grade_json(run):
    """Run ``nnbasics grade --json`` on notebooks; returns (exit status, parsed JSON or None, stderr)."""

    def grade_json(*args):
        proc = run("grade", "--json", *args)
        try:
            out = json.loads(proc.stdout) if proc.stdout.strip() else None
        except json.JSONDecodeError:
            pytest.fail(f"stdout is not JSON: {proc.stdout[:500]}\nstderr: {proc.stderr[-2000:]}")
        return proc.returncode, out, proc.stderr

    return grade_json
