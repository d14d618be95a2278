"""``JudgeTests``: the verdict, taken in the grader's process from the data the probes sent back.

For each sealed test cell it reads exactly one record from the cell's outputs,
checks its nonce, judges every case with ``checks.judge`` and leaves the
verdict as the cell's only output: nothing when it passed, one
``AssertionError`` with the reason when it failed. The cell gets its trusted
source back. nbgrader's ``SaveAutoGrades``, which runs after this step,
scores that output as it scores any test cell. Anything missing, duplicated,
malformed or forged fails closed.
"""

import json

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from .. import checks
from ..course import nbgrader_meta
from .state import LimitExceeded, state

REFERENCE_IMPORTED = "the notebook imports the nnbasics reference implementation, which is not allowed in an answer."


def _error_output(message):
    return NotebookNode(output_type="error", ename="AssertionError", evalue=message, traceback=[message])


def verdict(outputs, sealed):
    """Judge a probe cell's outputs against its ``Sealed`` cases: None if all pass, else the first failure."""
    records = [o for o in outputs if o.get("output_type") == "display_data" and checks.MIME in o.get("data", {})]
    if len(records) != 1:
        return "no result came back from the kernel" if not records else "the test produced several results"
    try:  # nbformat hands back NotebookNodes; the judge trusts only plain JSON types
        record = json.loads(json.dumps(records[0]["data"][checks.MIME]))
    except (TypeError, ValueError):
        return "the test's result was malformed"
    cases = sealed.cases
    if (
        not isinstance(record, dict)
        or record.get("nonce") != sealed.nonce
        or not isinstance(record.get("results"), list)
        or len(record["results"]) != len(cases)
    ):
        return "the test's result was malformed"
    for case, outcome in zip(cases, record["results"]):
        if not isinstance(outcome, dict):
            return "the test's result was malformed"
        if any(str(name).endswith("MemoryError") for name in (outcome.get("error") or {}).get("mro", [])):
            raise LimitExceeded("a test ran out of memory (the kernel's memory cap)")
        args_digest = checks.digest([case.args, case.kwargs])
        why = checks.judge(outcome, case.expect, case.rtol, case.atol, args_digest)
        if why:
            return checks.failure(case.fn, case.args, why, case.msg)
    return None


class JudgeTests(NbGraderPreprocessor):
    """Judge each probe here and give the test cell its verdict as output, and its source back."""

    def preprocess(self, nb, resources):
        graded = state(resources)
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if gid not in graded.sealed:
                continue
            sealed = graded.sealed[gid]
            why = REFERENCE_IMPORTED if gid in graded.flagged else verdict(cell.get("outputs", []), sealed)
            cell.source = sealed.source
            cell.outputs = [] if why is None else [_error_output(why)]
            graded.verdicts[gid] = why
        return nb, resources
