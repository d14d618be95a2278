"""``JudgeTests`` and ``verdict`` on their own: the decision taken from the probe's data, failing closed."""

import copy

import nbformat
import numpy as np
import pytest

from nnbasics.grading import checks
from nnbasics.grading.steps import JudgeTests, LimitExceeded, Sealed, record_cases, state, verdict

SOURCE = "check(double, args=(np.array([1.0, 2.0]),), expect=np.array([2.0, 4.0]), msg='multiply by 2')\n"


def sealed():
    return Sealed(cases=record_cases(SOURCE), nonce="n0nce", source=SOURCE)


def record(value, nonce="n0nce", **extra):
    """What a probe displays after calling the learner's ``double`` on the case's input."""
    outcome = {"value": checks.encode(value), "warnings": [], "modules": ["__main__"], **extra}
    outcome["args_digest"] = checks.digest([(np.array([1.0, 2.0]),), {}])
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {checks.MIME: {"nonce": nonce, "results": [outcome]}},
    }


def test_a_right_result_passes_and_a_wrong_one_fails_with_the_hint():
    assert verdict([record(np.array([2.0, 4.0]))], sealed()) is None
    why = verdict([record(np.array([2.0, 5.0]))], sealed())
    assert why.startswith("double: expected array") and why.endswith("multiply by 2")


@pytest.mark.parametrize(
    ("outputs", "words"),
    [
        ([], "no result came back"),
        ([record(np.array([2.0, 4.0]))] * 2, "several results"),
        ([record(np.array([2.0, 4.0]), nonce="forged")], "malformed"),
        ([{"output_type": "display_data", "data": {checks.MIME: {"nonce": "n0nce", "results": "all"}}}], "malformed"),
        ([{"output_type": "display_data", "data": {checks.MIME: {"nonce": "n0nce", "results": [7]}}}], "malformed"),
        ([{"output_type": "stream", "name": "stdout", "text": '{"passed": true}'}], "no result came back"),
    ],
)
def test_missing_duplicated_forged_or_malformed_records_fail(outputs, words):
    assert words in verdict(outputs, sealed())


def test_a_memory_error_in_a_test_is_a_limit_not_a_wrong_answer():
    outcome = record(None)
    outcome["data"][checks.MIME]["results"][0] = {"error": {"type": "MemoryError", "mro": ["MemoryError"]}}
    with pytest.raises(LimitExceeded, match="memory"):
        verdict([outcome], sealed())


def notebook(outputs):
    cell = nbformat.v4.new_code_cell("probe code", metadata={"nbgrader": {"grade_id": "test_double"}})
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return nbformat.v4.new_notebook(cells=[cell])


def test_the_cell_gets_its_source_back_and_the_verdict_as_its_only_output():
    resources = {}
    state(resources).sealed["test_double"] = sealed()
    nb, resources = JudgeTests()(notebook([record(np.array([0.0, 0.0]))]), resources)
    (cell,) = nb.cells
    assert cell.source == SOURCE
    assert [o.output_type for o in cell.outputs] == ["error"] and cell.outputs[0].ename == "AssertionError"
    assert state(resources).verdicts["test_double"] == cell.outputs[0].evalue

    resources = {}
    state(resources).sealed["test_double"] = sealed()
    nb, resources = JudgeTests()(notebook([record(np.array([2.0, 4.0]))]), resources)
    assert nb.cells[0].outputs == [] and state(resources).verdicts == {"test_double": None}


def test_a_flagged_test_fails_whatever_its_result():
    resources = {}
    state(resources).sealed["test_double"] = sealed()
    state(resources).flagged.add("test_double")
    _, resources = JudgeTests()(notebook([record(np.array([2.0, 4.0]))]), copy.copy(resources))
    assert "reference implementation" in state(resources).verdicts["test_double"]
