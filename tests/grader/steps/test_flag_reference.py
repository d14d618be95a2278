"""``FlagReferenceImports`` on its own: which code counts as importing nnbasics, and which tests it costs."""

import copy

import nbformat
import pytest
from testkit.notebooks import cell_index, solved

from nnbasics.grading import course
from nnbasics.grading.steps import FlagReferenceImports, imports_reference, state

RESOURCES = {"nbgrader": {"assignment": "01_neuron", "notebook": "01_neuron"}}


@pytest.mark.parametrize(
    "source",
    [
        "import nnbasics",
        "import nnbasics.activations as a",
        "from nnbasics import sigmoid",
        "from nnbasics.activations import sigmoid as s",
        "m = __import__('nnbasics')",
        "import importlib\nm = importlib.import_module('nnbasics.activations')",
        "def sigmoid(z)  # does not parse: nnbasics",  # a cell that does not parse is judged by its text
    ],
)
def test_imports_of_the_reference_are_found(source):
    assert imports_reference(source)


@pytest.mark.parametrize("source", ["import numpy as np", "from math import exp", "x = 'nn' + 'basic'"])
def test_other_code_is_not_flagged(source):
    assert not imports_reference(source)


def test_an_answer_cell_costs_its_own_test_and_an_extra_cell_costs_all():
    nb = solved("01_neuron", {"relu": "from nnbasics import relu"})
    _, resources = FlagReferenceImports()(nb, copy.deepcopy(RESOURCES))
    assert state(resources).flagged == {"test_relu"}

    nb = solved("01_neuron")
    nb.cells.insert(cell_index(nb, "checks") + 1, nbformat.v4.new_code_cell("from nnbasics import *"))
    _, resources = FlagReferenceImports()(nb, copy.deepcopy(RESOURCES))
    assert state(resources).flagged == set(course.test_ids("01_neuron"))
