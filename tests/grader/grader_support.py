"""Notebooks a learner would hand in, built from the committed exercises and solutions (grader tests)."""

import copy
import hashlib
from pathlib import Path

import nbformat

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


def write(nb, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(copy.deepcopy(nb), str(path))
    return path
