"""``JudgeTests``: the verdict, taken in the grader's process from the data the probes sent back.

For each sealed test cell it reads exactly one record from the cell's outputs,
checks its nonce, judges every case with ``checks.judge`` and leaves the
verdict as the cell's only output: nothing when it passed, one
``AssertionError`` with the reason when it failed. The cell gets its trusted
source back. nbgrader's ``SaveAutoGrades``, which runs after this step,
scores that output as it scores any test cell. Anything missing, duplicated,
malformed or forged fails closed.

A test fails without its record being read when its answer imports the
reference (``flagged``), when a cell that hit a limit costs it (``guilty``),
or when its record was too large to keep (``too_large``). A function that is
not defined because its cell failed is reported with that cell's failure
(``cell_errors``): "sigmoid is not defined: its cell, cell 8 (sigmoid), has a
SyntaxError at line 1: expected ':'".
"""

import re

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from .. import checks
from ..course import nbgrader_meta
from ..limits import MAX_RECORD_BYTES, bounded_text
from .state import state

REFERENCE_IMPORTED = "the notebook imports the nnbasics reference implementation, which is not allowed in an answer."
_UNDEFINED = re.compile(r"name '([A-Za-z_]\w*)' is not defined")


def _error_output(message):
    return NotebookNode(output_type="error", ename="AssertionError", evalue=message, traceback=[message])


def too_large(nbytes, limit):
    """The failure of a test whose result was not kept."""
    return f"the result is too large ({nbytes / 2**20:.1f} MiB; a test's results may take {limit >> 20} MiB)."


_SCALARS = (str, int, float, bool, type(None))


def plain_json(tree):
    """A probe's record as nbformat hands it back (``NotebookNode`` dicts), rebuilt of plain dicts and lists.

    The judge trusts only exact JSON types. The strings are kept, not copied:
    encoding the record to JSON and decoding it again gave the same tree but
    took 70 ms for the 16 MB of results of 03_initialization. Iterative, so
    that no depth makes it fail other than closed; ``TypeError`` for a value
    or key of any other type.
    """
    root = [tree]
    stack = [(root, 0)]
    while stack:
        holder, key = stack.pop()
        value = holder[key]
        if isinstance(value, dict):
            if not all(type(k) is str for k in value):
                raise TypeError("a key that is not a string")
            holder[key] = value = dict(value)
            stack.extend((value, k) for k in value)
        elif isinstance(value, list):
            holder[key] = value = list(value)
            stack.extend((value, i) for i in range(len(value)))
        elif type(value) not in _SCALARS:
            raise TypeError(f"a {type(value).__name__}, which JSON does not have")
    return root[0]


def verdict(outputs, sealed, cell_errors=None, buffers=()):
    """Judge a probe cell's outputs against its ``Sealed`` cases: None if all pass, else the first failure.

    ``cell_errors`` maps a name to what happened to the cell meant to define
    it, for a case that fails because that name is undefined; ``buffers`` are
    the raw frames the record came with.
    """
    records = [
        o
        for o in outputs
        if o.get("output_type") == "display_data" and isinstance(o.get("data"), dict) and checks.MIME in o["data"]
    ]
    if len(records) != 1:
        return "no result came back from the kernel" if not records else "the test produced several results"
    try:
        record = plain_json(records[0]["data"][checks.MIME])
    except TypeError:
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
        error = outcome.get("error")
        if isinstance(error, dict) and not isinstance(case.expect, checks.Raises):
            message = error.get("message")
            undefined = _UNDEFINED.match(message) if error.get("type") == "NameError" and type(message) is str else None
            if undefined and undefined[1] in (cell_errors or {}):
                return f"{undefined[1]} is not defined: {cell_errors[undefined[1]]}."
            if any(str(name).endswith("MemoryError") for name in error.get("mro") or []):
                return checks.failure(case.fn, case.args, "it ran out of memory (the kernel's memory cap)", case.msg)
        args_digest = checks.digest([case.args, case.kwargs])
        why = checks.judge(outcome, case.expect, case.rtol, case.atol, args_digest, buffers=buffers)
        if why:
            return checks.failure(case.fn, case.args, why, case.msg)
    return None


class JudgeTests(NbGraderPreprocessor):
    """Judge each probe here and give the test cell its verdict as output, and its source back."""

    max_record_bytes = Integer(MAX_RECORD_BYTES, help="largest result of one test, bytes (for the message)").tag(
        config=True
    )

    def preprocess(self, nb, resources):
        graded = state(resources)
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if gid not in graded.sealed:
                continue
            sealed = graded.sealed[gid]
            if gid in graded.flagged:
                why = REFERENCE_IMPORTED
            elif gid in graded.guilty:
                why = graded.guilty[gid]
            elif gid in graded.too_large:
                why = too_large(graded.too_large[gid], self.max_record_bytes)
            else:
                why = verdict(cell.get("outputs", []), sealed, graded.cell_errors, graded.buffers.get(gid, ()))
            why = None if why is None else bounded_text(why)
            cell.source = sealed.source
            cell.outputs = [] if why is None else [_error_output(why)]
            graded.verdicts[gid] = why
        return nb, resources
