"""``SealTests`` on its own: cases recorded in the grader, and probes that carry no expectation."""

import copy

import numpy as np
from testkit.notebooks import cell_index, solved

from nnbasics.grading import checks
from nnbasics.grading.course import graded_cells
from nnbasics.grading.steps import SealTests, record_cases, state

RESOURCES = {"nbgrader": {"assignment": "01_neuron", "notebook": "01_neuron"}}


def test_record_cases_turns_check_calls_into_data():
    source = (
        "z = np.array([1.0, 2.0])\n"
        "check(sigmoid, args=(z,), expect=z * 2, rtol=1e-3, msg='hint')\n"
        "check(answer, expect=Choice('b'))\n"
    )
    first, second = record_cases(source)
    assert isinstance(first.fn, checks.Ref) and first.fn.name == "sigmoid"
    np.testing.assert_array_equal(first.args[0], [1.0, 2.0])
    np.testing.assert_array_equal(first.expect, [2.0, 4.0])
    assert (first.rtol, first.atol, first.msg) == (1e-3, 0.0, "hint")
    assert second.args is None and second.fn.name == "answer" and second.expect.options == ("b",)


def test_test_cells_become_probes_and_keep_their_trusted_source():
    nb = solved("01_neuron")
    i = cell_index(nb, "test_quiz_1")
    nb.cells[i].source = "pass  # a learner's edit: the trusted source is used anyway"
    nb, resources = SealTests()(nb, copy.deepcopy(RESOURCES))
    sealed = state(resources).sealed
    assert set(sealed) == {gid for gid, (kind, _) in graded_cells("01_neuron").items() if kind == "test"}
    trusted = graded_cells("01_neuron")["test_quiz_1"][1]
    assert sealed["test_quiz_1"].source == trusted
    call = nb.cells[i].source.splitlines()[-1]  # the line that runs the cases; above it, checks.py itself
    assert call.startswith("_nnb_ns['probe'](") and sealed["test_quiz_1"].nonce in call
    # the expectation and the hint stay in the grader: the kernel sees only what to call
    assert "Choice" not in call and all(case.msg not in call for case in sealed["test_quiz_1"].cases)
    nonces = {s.nonce for s in sealed.values()}
    assert len(nonces) == len(sealed)  # one nonce per test cell
