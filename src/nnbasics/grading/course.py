"""The course as the grader knows it: assignment ids, source notebooks, and which one a file is.

The nbgrader source notebooks (solutions and hidden tests) ship inside the
wheel as ``nnbasics/course/solutions``; in a checkout or an editable install
they are read from the repository's ``solutions/``. They are read in the
grader's process only: the learner's kernel never sees them.
"""

import ast
import copy
import functools
import os
import threading
from pathlib import Path

import nbformat
from traitlets.config import Config

from ..assignments import ASSIGNMENTS

# CPython 3.11 converts between Python and C syntax trees with a process-wide counter: two threads doing
# it at once fail with "AST constructor recursion depth mismatch". Dask workers may run tasks in threads.
AST_LOCK = threading.Lock()


def source_root():
    """The folder holding ``<id>/<id>.ipynb`` source notebooks (packaged, else the checkout's)."""
    here = Path(__file__).resolve().parent
    chosen = os.environ.get("NNBASICS_SOURCE_DIR")  # an instructor's own copy of the course
    candidates = [Path(chosen)] if chosen else [here.parent / "course" / "solutions", here.parents[2] / "solutions"]
    for candidate in candidates:
        if (candidate / ASSIGNMENTS[0] / f"{ASSIGNMENTS[0]}.ipynb").is_file():
            return candidate
    raise FileNotFoundError("the nnbasics course notebooks are missing from this installation; reinstall nnbasics")


@functools.cache
def source_bytes(assignment):
    """The source notebook of ``assignment`` as bytes (its content identifies the course version)."""
    return (source_root() / assignment / f"{assignment}.ipynb").read_bytes()


def source_notebook(assignment):
    """A fresh copy of the source notebook (solutions + hidden tests) of ``assignment``."""
    return nbformat.reads(source_bytes(assignment).decode("utf-8"), as_version=4)


def nbgrader_meta(cell):
    """The cell's nbgrader metadata dict, or ``{}``."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


@functools.cache
def graded_meta(assignment):
    """``[(nbgrader metadata, source)]`` of the source notebook's cells that have a grade_id, in order.

    Read once per process: ``graded_cells`` and ``gradebook.points`` both come from it.
    """
    return [
        (meta, cell.source) for cell in source_notebook(assignment).cells if "grade_id" in (meta := nbgrader_meta(cell))
    ]


@functools.cache
def graded_cells(assignment):
    """``{grade_id: (kind, source)}`` of the source notebook, kind in solution/test/locked."""
    cells = {}
    for meta, source in graded_meta(assignment):
        kind = "solution" if meta.get("solution") else "test" if meta.get("grade") else "locked"
        cells[meta["grade_id"]] = (kind, source)
    return cells


def test_ids(assignment):
    """grade_ids of the test cells, in notebook order."""
    return [gid for gid, (kind, _) in graded_cells(assignment).items() if kind == "test"]


def defined_names(source):
    """Top-level names a code cell defines (functions, classes, assignments); empty if it does not parse."""
    try:
        with AST_LOCK:
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def evidence(nb):
    """``{assignment: score}``: how much of each assignment ``nb``'s cells show (grade_ids, then function names)."""
    ids = {nbgrader_meta(c).get("grade_id") for c in nb.cells} - {None}
    names = set().union(*(defined_names(c.source) for c in nb.cells if c.cell_type == "code"))
    scores = {}
    for assignment in ASSIGNMENTS:
        graded = graded_cells(assignment)
        solutions = {gid for gid, (kind, _) in graded.items() if kind == "solution" and not gid.startswith("quiz_")}
        scores[assignment] = 2 * len(ids & set(graded)) + len(names & solutions)
    return scores


def identify(nb):
    """Which assignment ``nb`` is, from its cells; None when it is none of them.

    A released notebook's cells carry nbgrader grade_ids; when an editor has
    stripped them, the graded function names the cells define decide.
    """
    scores = evidence(nb)
    best = max(scores, key=scores.get)  # the first of equals, in course order
    return best if scores[best] > 0 else None


def run_steps(preprocessors, nb, resources, config=None):
    """Run nbgrader preprocessor classes in order, as nbconvert's exporter does.

    As there, a step runs only if enabled (nbgrader's are; nbconvert's
    ClearMetadataPreprocessor is off unless configured). Used for nbgrader's
    own generate_assignment steps, unchanged; the grading pipeline, with our
    steps in it, is spelled out in ``pipeline.py``.
    """
    for cls in preprocessors:
        nb, resources = cls(config=config or Config())(nb, resources)
    return nb, resources


def generate_steps(save=False):
    """nbgrader's generate_assignment steps; without ``save``, SaveCells (the gradebook write) is left out."""
    from nbgrader.converters.generate_assignment import GenerateAssignment
    from nbgrader.preprocessors import SaveCells

    return [p for p in GenerateAssignment.class_traits()["preprocessors"].default() if save or p is not SaveCells]


@functools.cache
def _released(assignment):
    resources = {"nbgrader": {"assignment": assignment, "notebook": assignment}}
    return run_steps(generate_steps(), source_notebook(assignment), resources)[0]


def released_notebook(assignment):
    """A fresh copy of the released notebook, as ``nbgrader generate_assignment`` makes it."""
    return copy.deepcopy(_released(assignment))


def solved_notebook(assignment, replace=None):
    """The released notebook with every answer filled in from the source, as a learner who solved it.

    ``replace`` maps grade_ids to other answers (a wrong one, an attack). Used
    by the grader's benchmark and tests.
    """
    markers = ("### BEGIN SOLUTION", "### END SOLUTION")
    answers = {
        nbgrader_meta(c)["grade_id"]: "\n".join(ln for ln in c.source.splitlines() if ln.strip() not in markers)
        for c in source_notebook(assignment).cells
        if nbgrader_meta(c).get("solution")
    }
    answers.update(replace or {})
    nb = released_notebook(assignment)
    for cell in nb.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb
