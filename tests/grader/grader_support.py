"""Notebooks a learner would hand in, for the grader's tests: released as committed, or solved."""

import copy
import hashlib
from pathlib import Path

import nbformat

from nnbasics.grading import course

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = course.ASSIGNMENTS
meta = course.nbgrader_meta


def released(assignment):
    """The committed exercise notebook, as a learner downloads it."""
    return nbformat.read(REPO / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def solved(assignment, replace=None):
    """The released notebook with every answer filled in; ``replace`` maps grade_ids to other sources."""
    return course.solved_notebook(assignment, replace)


def cell_index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if meta(c).get("grade_id") == grade_id)


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write(nb, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(copy.deepcopy(nb), str(path))
    return path
