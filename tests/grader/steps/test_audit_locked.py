"""``AuditLockedCells`` on its own: an edited or deleted locked cell is noted, an untouched one is not."""

import copy

from testkit.notebooks import cell_index, solved

from nnbasics.grading.steps import AuditLockedCells, state

RESOURCES = {"nbgrader": {"assignment": "01_neuron", "notebook": "01_neuron"}}


def test_edited_and_deleted_locked_cells_are_noted():
    nb = solved("01_neuron")
    nb.cells[cell_index(nb, "test_sigmoid")].source = "pass  # the test is gone"
    del nb.cells[cell_index(nb, "test_relu")]
    nb, resources = AuditLockedCells()(nb, copy.deepcopy(RESOURCES))
    notes = state(resources).notes
    assert notes == {
        "test_sigmoid": "The locked cell test_sigmoid had been edited; the original was restored.",
        "test_relu": "The locked cell test_relu was missing; the original was restored.",
    }


def test_whitespace_around_a_locked_cell_is_not_an_edit():
    nb = solved("01_neuron")
    cell = nb.cells[cell_index(nb, "test_sigmoid")]
    cell.source = "\n" + cell.source + "\n\n"
    _, resources = AuditLockedCells()(nb, copy.deepcopy(RESOURCES))
    assert state(resources).notes == {}
