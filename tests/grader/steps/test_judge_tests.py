"""``JudgeTests`` and ``verdict`` on their own: the decision taken from the probe's data, failing closed."""

import copy
import json

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnbasics.grading import checks
from nnbasics.grading.steps import JudgeTests, Sealed, record_cases, state, verdict
from nnbasics.grading.steps.judge_tests import plain_json

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


def test_a_memory_error_in_a_test_fails_that_test_with_the_reason():
    outcome = record(None)
    outcome["data"][checks.MIME]["results"][0] = {"error": {"type": "MemoryError", "mro": ["MemoryError"]}}
    assert verdict([outcome], sealed()) == "double: it ran out of memory (the kernel's memory cap). multiply by 2"


def test_an_undefined_function_is_explained_by_its_failed_cell_and_only_then():
    outcome = record(None)
    message = "name 'double' is not defined (did you run the cell that defines it?)"
    outcome["data"][checks.MIME]["results"][0] = {
        "error": {"type": "NameError", "mro": ["NameError"], "message": message}
    }
    why = "its cell, cell 3 (double), has a SyntaxError at line 2: expected ':'"
    assert verdict([outcome], sealed(), {"double": why}) == f"double is not defined: {why}."
    assert verdict([outcome], sealed(), {"other": why}).startswith(f"double: raised NameError: {message}")


def test_a_limit_a_result_too_large_and_a_reference_import_each_fail_with_their_reason():
    for field, value, words in (
        ("guilty", "this test timed out after 3 s.", "this test timed out after 3 s."),
        ("too_large", 40 << 20, "the result is too large (40.0 MiB"),
    ):
        resources = {}
        state(resources).sealed["test_double"] = sealed()
        target = getattr(state(resources), field)
        target["test_double"] = value
        _, resources = JudgeTests()(notebook([record(np.array([2.0, 4.0]))]), resources)
        assert state(resources).verdicts["test_double"].startswith(words)


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


json_trees = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=5), kids, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(json_trees)
def test_plain_json_rebuilds_what_nbformat_hands_back_as_json_would(tree):
    """The independent version: encode the record to JSON and decode it (what the judge did before)."""
    handed = nbformat.from_dict({"data": tree})["data"]  # nbformat's NotebookNodes, as in a cell's outputs
    plain = plain_json(handed)
    assert plain == json.loads(json.dumps(handed))

    def types(x):
        if isinstance(x, dict):
            return [type(x), *(t for v in x.values() for t in types(v))]
        if isinstance(x, list):
            return [type(x), *(t for v in x for t in types(v))]
        return [type(x)]

    assert set(types(plain)) <= {dict, list, str, int, float, bool, type(None)}


@pytest.mark.parametrize("odd", [(1, 2), {1: "a"}, object(), b"bytes", {"a": [{"b": {3.0}}]}])
def test_plain_json_refuses_what_json_does_not_have(odd):
    with pytest.raises(TypeError):
        plain_json({"record": odd})


def test_a_record_nested_deeper_than_python_recurses_fails_closed():
    deep = record(np.array([2.0, 4.0]))
    inner = deep["data"][checks.MIME]["results"][0]
    for _ in range(5000):
        inner["value"] = {"t": "list", "items": [inner["value"]]}
    # (encoding it to JSON again, as the judge once did, raised RecursionError out of the verdict)
    assert verdict([deep], sealed()) == "double: its result could not be read back. multiply by 2"
