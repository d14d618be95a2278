"""Notebooks a learner would hand in, for the grader's tests: released as committed, or solved."""

import copy
import hashlib
from pathlib import Path

import nbformat

from nnbasics.grading import course

REPO = Path(__file__).resolve().parents[2]
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


def make_class(root):
    """Four students: full marks, one wrong answer, a kernel that dies (twice), a file that is not a notebook."""
    sub = root / "submitted"
    write(solved("01_neuron"), sub / "ada" / "01_neuron" / "01_neuron.ipynb")
    write(solved("04_loss"), sub / "ada" / "04_loss" / "04_loss.ipynb")
    wrong = "def relu(z):\n    return np.abs(np.asarray(z, dtype=float))\n"
    write(solved("01_neuron", {"relu": wrong}), sub / "ben" / "01_neuron" / "01_neuron.ipynb")
    crash = solved("01_neuron")  # two cells that kill the kernel: it dies again after the grader's one restart
    crash.cells.insert(cell_index(crash, "checks") + 1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    crash.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(2)"))
    write(crash, sub / "cy" / "01_neuron" / "01_neuron.ipynb")
    (sub / "dee" / "01_neuron").mkdir(parents=True)
    (sub / "dee" / "01_neuron" / "01_neuron.ipynb").write_text("{ not json")
    return sub
