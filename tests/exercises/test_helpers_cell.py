"""The released notebooks' helpers cell in a real Jupyter kernel: what a learner sees when NumPy is missing."""

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from nnbasics.grading import authoring, checks


def test_without_numpy_the_helpers_cell_says_what_to_install_in_one_sentence():
    released = nbformat.read(authoring.notebook_path(authoring.ROOT, "exercises", "01_neuron"), as_version=4)
    helpers = next(c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "checks")
    nb = new_notebook(
        cells=[
            new_code_cell("import sys\nsys.modules['numpy'] = None  # as in a Jupyter without NumPy"),
            new_code_cell(helpers.source),
        ]
    )
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    (shown,) = nb.cells[1].outputs
    assert shown.output_type == "error" and shown.ename == "MissingRequirement"
    assert shown.traceback == [checks.NEEDS]  # the sentence, and no traceback beside it
    assert "pip install numpy" in checks.NEEDS and "conda install numpy" in checks.NEEDS
