"""``FlagReferenceImports`` on its own: which code counts as importing nnbasics, and which tests it costs.

The rule (in ``steps/flag_reference.py``) reads code, never comments or
docstrings: both directions are tested.
"""

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
        "getattr(__builtins__, '__import__')('nnbasics')",  # any function given the package's name
        "f = getattr(__builtins__, '__imp' + 'ort__')\nm = f('nn' + 'basics')",  # a name built from pieces
        "m = __import__(f'{\"nn\"}basics')",
        "import sys\nm = sys.modules['nnbasics']",
        "name = 'nnbasics.activations'\nm = __import__(name)",
        "def sigmoid(z):\n    return nnbasics.activations.sigmoid(z)",  # the name itself, however it got there
        "exec('from nnbasics import sigmoid')",  # a string of code is read as code
        "eval(\"__import__('nnbasics')\")",
        "%time import nnbasics",  # IPython's own syntax, read as IPython runs it
        "def sigmoid(z)\n    import nnbasics",  # a cell that does not parse: its tokens
        "def sigmoid(z):\n    '''Mine.'''\n    return __import__('nnbasics').sigmoid(z)",
    ],
)
def test_imports_of_the_reference_are_found(source):
    assert imports_reference(source)


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np",
        "from math import exp",
        "x = 'nn' + 'basic'",
        'def sigmoid(z):\n    """Like nnbasics.activations.sigmoid, but mine."""\n    return 1 / (1 + np.exp(-z))',
        "def relu(z):\n    # nnbasics does this with np.maximum\n    return np.maximum(z, 0)",
        "def sigmoid(z)  # does not parse, and nnbasics is in a comment",
        '"""A note: nnbasics is the course\'s reference."""',
        "def relu(z):\n    if z is None:\n        raise ValueError('unlike nnbasics, it checks')\n    return z",
        "print('read the nnbasics site')",
        "mime = 'application/vnd.nnbasics.probe+json'",  # a string that parses as code, but imports nothing
    ],
)
def test_comments_docstrings_and_prose_are_not_flagged(source):
    assert not imports_reference(source)


def test_a_correct_answer_whose_docstring_names_the_reference_is_not_flagged():
    nb = solved("01_neuron")
    answer = nb.cells[cell_index(nb, "sigmoid")].source.replace('"""', '"""As nnbasics.activations.sigmoid does. ', 1)
    assert "As nnbasics" in answer
    _, resources = FlagReferenceImports()(solved("01_neuron", {"sigmoid": answer}), copy.deepcopy(RESOURCES))
    assert state(resources).flagged == set()


def test_an_answer_cell_costs_its_own_test_and_an_extra_cell_costs_all():
    nb = solved("01_neuron", {"relu": "from nnbasics import relu"})
    _, resources = FlagReferenceImports()(nb, copy.deepcopy(RESOURCES))
    assert state(resources).flagged == {"test_relu"}

    nb = solved("01_neuron")
    nb.cells.insert(cell_index(nb, "checks") + 1, nbformat.v4.new_code_cell("from nnbasics import *"))
    _, resources = FlagReferenceImports()(nb, copy.deepcopy(RESOURCES))
    assert state(resources).flagged == set(course.test_ids("01_neuron"))
