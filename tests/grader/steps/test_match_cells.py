"""``MatchCells`` on its own: stripped grade_ids come back by content, duplicated ones keep the first copy."""

import copy

from testkit.notebooks import meta, solved

from nnbasics.grading.steps import MatchCells, state

RESOURCES = {"nbgrader": {"assignment": "01_neuron", "notebook": "01_neuron"}}


def ids(nb):
    return [meta(c).get("grade_id") for c in nb.cells]


def test_stripped_metadata_is_restored_by_content():
    nb = solved("01_neuron")
    expected = ids(nb)
    for cell in nb.cells:  # an editor that drops every cell's nbgrader metadata
        cell.metadata.pop("nbgrader", None)
    nb, resources = MatchCells()(nb, copy.deepcopy(RESOURCES))
    assert ids(nb) == expected
    assert state(resources).notes == {}


def test_a_duplicated_cell_keeps_the_first_copy_and_is_noted():
    nb = solved("01_neuron")
    at = ids(nb).index("sigmoid")
    nb.cells.insert(at + 1, copy.deepcopy(nb.cells[at]))
    nb.cells[at + 1].source = "def sigmoid(z):\n    return 0.0\n"
    nb, resources = MatchCells()(nb, copy.deepcopy(RESOURCES))
    assert ids(nb).count("sigmoid") == 1 and ids(nb)[at] == "sigmoid" and ids(nb)[at + 1] is None
    assert "two cells with id sigmoid" in state(resources).notes["sigmoid"]


def test_a_notebook_with_its_ids_is_left_alone():
    nb = solved("01_neuron")
    before = copy.deepcopy(nb)
    nb, resources = MatchCells()(nb, copy.deepcopy(RESOURCES))
    assert nb == before and state(resources).notes == {}
