"""Fixtures for the grader's end-to-end tests: notebooks a learner would hand in, and the real command."""

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ("01_neuron", "02_learning_rate", "03_initialization", "04_loss", "05_chain_rule")
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def released(assignment):
    """The committed exercise notebook, as a learner downloads it."""
    return nbformat.read(REPO / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def solution_sources(assignment):
    """``{grade_id: source}`` of the solution cells, markers removed: what a learner who solved it wrote."""
    nb = nbformat.read(REPO / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    return {
        meta(c)["grade_id"]: "\n".join(line for line in c.source.splitlines() if line.strip() not in MARKERS)
        for c in nb.cells
        if meta(c).get("solution")
    }


def solved(assignment, replace=None):
    """The released notebook with every answer filled in; ``replace`` maps grade_ids to other sources."""
    nb = released(assignment)
    answers = {**solution_sources(assignment), **(replace or {})}
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        if meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


def cell_index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if meta(c).get("grade_id") == grade_id)


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def grader_env(tmp_path_factory):
    """Environment for the command: a private cache, the venv's scripts on PATH."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path_factory.getbasetemp().parent / "grader-cache")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
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


def write(nb, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(copy.deepcopy(nb), str(path))
    return path
