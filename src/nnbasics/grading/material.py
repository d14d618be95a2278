"""What the grader grades with, and whether another copy of it is the same.

The *grading material* is what decides a verdict besides the learner's code:
the five source notebooks (solutions and hidden tests), the test helper
``checks.py`` and the nnbasics version. ``material()`` names each part with
the sha256 of its bytes and ``fingerprint`` sums them up in one hex string.
``grade-class`` sends that fingerprint with every task, and a worker whose
own material differs refuses the task (``differences`` says which parts), so a
class is never graded with two sets of hidden tests.

nbgrader keeps its own copy of the course in ``gradebook.db``: the cells
``nbgrader generate_assignment`` recorded, which stock ``autograde`` restores
into every submission and scores against. ``gradebook_differences`` says
where that copy is not the material's, and ``refresh`` records the
material's cells in it with nbgrader's own generate_assignment steps.
"""

import functools
import hashlib
import json
from importlib import metadata
from pathlib import Path

from ..assignments import ASSIGNMENTS
from . import checks
from .course import generate_steps, graded_cells, run_steps, source_bytes


def version():
    """The installed nnbasics version ("unknown" when it is run from a bare source tree)."""
    try:
        return metadata.version("nnbasics")
    except metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def material():
    """``{part: digest}`` of this installation's grading material (digests are sha256 hex, the version is kept)."""
    parts = {"nnbasics": version(), "checks.py": hashlib.sha256(Path(checks.__file__).read_bytes()).hexdigest()}
    for assignment in ASSIGNMENTS:
        parts[assignment] = hashlib.sha256(source_bytes(assignment)).hexdigest()
    return parts


def fingerprint(parts=None):
    """One sha256 hex string for ``parts`` (default: this installation's ``material()``)."""
    parts = material() if parts is None else parts
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def differences(mine, theirs):
    """The parts in which two materials differ, in words (empty when they are the same).

    Parameters
    ----------
    mine, theirs : dict
        Two ``material()`` dicts, e.g. a worker's and the instructor's.

    Returns
    -------
    list of str
        E.g. ``["the hidden tests of 01_neuron", "nnbasics 0.1.0 (expected 0.2.0)"]``.
    """
    found = []
    for part in sorted(set(mine) | set(theirs)):
        if mine.get(part) == theirs.get(part):
            continue
        if part == "nnbasics":
            found.append(f"nnbasics {mine.get(part)} (expected {theirs.get(part)})")
        elif part in ASSIGNMENTS:
            found.append(f"the hidden tests of {part}")
        else:
            found.append(part)
    return found


def gradebook_differences(gb, assignment):
    """grade_ids whose copy in the gradebook ``gb`` is not the material's (points or locked source), sorted.

    ``["(missing)"]`` when the gradebook does not hold the assignment at all.
    """
    from nbgrader.api import MissingEntry

    try:
        notebook = gb.find_notebook(assignment, assignment)
    except MissingEntry:
        return ["(missing)"]
    from .gradebook import points

    want = points(assignment)
    have = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
    differ = {gid for gid in set(want) | set(have) if want.get(gid) != have.get(gid)}
    sources = {cell.name: cell.source for cell in notebook.source_cells}
    for gid, (kind, source) in graded_cells(assignment).items():
        if kind != "solution" and (sources.get(gid) or "").strip() != source.strip():
            differ.add(gid)
    return sorted(differ)


def refresh(db_url, assignment, source_nb):
    """Record ``source_nb``'s cells as ``assignment`` in the gradebook, as ``nbgrader generate_assignment`` does.

    nbgrader refuses (``RuntimeError``) to add or remove cells of a notebook
    that already has submissions; changed sources and points are updated.
    """
    resources = {"nbgrader": {"assignment": assignment, "notebook": assignment, "db_url": db_url}}
    run_steps(generate_steps(save=True), source_nb, resources)
