"""nbgrader pipeline steps that take the verdict out of the learner's kernel.

nbgrader's autograde pipeline runs unchanged around these steps:

* ``SealTests`` (after ``OverwriteCells``): runs each test cell's trusted
  source *here*, with a recording ``check``, and replaces the cell by a probe
  that only calls the learner's functions on the inputs and displays the
  outputs as JSON data. Expectations, tolerances and messages never enter the
  kernel.
* ``ProbeExecute`` (nbgrader's ``Execute``, sandboxed kernel): enforces the
  notebook time limit and the output cap, and stops at the first limit hit.
* ``JudgeTests`` (after execution): reads back exactly one record per probe,
  judges it here with ``checks.judge``, and leaves the verdict as the cell's
  output (an ``AssertionError`` or nothing), which nbgrader's
  ``SaveAutoGrades`` then scores as usual. Anything missing, duplicated or
  malformed fails closed.
"""

import ast
import asyncio
import builtins
import copy
import json
import math
import secrets
from pathlib import Path
from time import monotonic
from typing import NamedTuple

import numpy as np
from nbclient.exceptions import DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Float, Integer

from . import checks
from .course import AST_LOCK, defined_names, graded_cells, nbgrader_meta, released_notebook

CHECKS_SOURCE = Path(checks.__file__).read_text(encoding="utf-8")


class Case(NamedTuple):
    """One ``check(...)`` call of a test cell, recorded in the grader's process."""

    fn: object
    args: object
    kwargs: dict
    expect: object
    rtol: float
    atol: float
    msg: str
    given: dict  # names bound to trusted stand-ins in the learner function's globals during the call


class LimitExceeded(Exception):
    """The learner's notebook hit a time, memory or output limit; the message says which."""


def record_cases(source):
    """Run a test cell's source here and return its ``check`` calls as ``Case`` data.

    Names the cell uses but does not define (the learner's functions,
    ``answer``) become ``checks.Ref`` placeholders.
    """
    cases = []

    def check(fn, args=None, kwargs=None, *, expect, rtol=1e-7, atol=0.0, msg="", given=None):
        args = None if args is None else tuple(args)
        cases.append(Case(fn, args, dict(kwargs or {}), expect, rtol, atol, msg, dict(given or {})))

    namespace = {
        "np": np,
        "math": math,
        "check": check,
        **{name: getattr(checks, name) for name in checks.TEST_NAMES},
    }
    with AST_LOCK:
        tree = ast.parse(source)
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id not in namespace and node.id not in assigned and not hasattr(builtins, node.id):
                namespace[node.id] = checks.Ref(node.id)
    with AST_LOCK:
        code = compile(tree, "<test cell>", "exec")
    exec(code, namespace)
    return cases


class MatchCells(NbGraderPreprocessor):
    """Give cells whose nbgrader metadata an editor stripped their grade_ids back, by content.

    Locked cells are recognised by their released source, solution cells by
    the function or class they define, quiz answers by order. Of duplicated
    grade_ids the first copy keeps its metadata, and the duplication is noted.
    """

    def preprocess(self, nb, resources):
        notes = resources.setdefault("nnbasics", {}).setdefault("notes", {})
        seen = set()
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if gid in seen or not isinstance(gid, str):
                # keep the first copy (nbgrader's DeduplicateIds would keep the last, and leave an empty
                # metadata dict that its OverwriteCells then trips over); a copy is an ordinary cell
                if gid in seen:
                    notes[gid] = f"The notebook had two cells with id {gid}; the first was graded."
                cell.metadata.pop("nbgrader", None)
            seen.add(gid)
        bare = [c for c in nb.cells if c.cell_type == "code" and not nbgrader_meta(c)]
        if not bare:
            return nb, resources
        released = released_notebook(resources["nbgrader"]["assignment"])
        quiz = [c for c in released.cells if nbgrader_meta(c).get("grade_id", "").startswith("quiz_")]
        answers = [c for c in bare if "answer" in defined_names(c.source)]
        matched = 0
        for ref in released.cells:
            meta = nbgrader_meta(ref)
            gid = meta.get("grade_id")
            if gid is None or gid in seen or ref.cell_type != "code":
                continue
            if meta.get("locked"):
                hits = [c for c in bare if c.source.strip() == ref.source.strip()]
            elif gid.startswith("quiz_"):
                k = quiz.index(ref)
                hits = answers[k : k + 1]
            else:
                hits = [c for c in bare if gid in defined_names(c.source)]
            if hits:
                hits[0].metadata["nbgrader"] = copy.deepcopy(meta)
                bare.remove(hits[0])
                seen.add(gid)
                matched += 1
        if matched:
            self.log.warning("nbgrader metadata was missing from %d cells; matched them by content", matched)
            resources["nnbasics"]["matched_by_content"] = matched
        return nb, resources


class AuditLockedCells(NbGraderPreprocessor):
    """Note which locked cells the submission edited or deleted (nbgrader's OverwriteCells restores them)."""

    def preprocess(self, nb, resources):
        notes = resources.setdefault("nnbasics", {}).setdefault("notes", {})
        present = {}
        for cell in nb.cells:
            present.setdefault(nbgrader_meta(cell).get("grade_id"), cell)
        for ref in released_notebook(resources["nbgrader"]["assignment"]).cells:
            meta = nbgrader_meta(ref)
            gid = meta.get("grade_id")
            if not meta.get("locked") or gid in notes:
                continue
            if gid not in present:
                notes[gid] = f"The locked cell {gid} was missing; the original was restored."
            elif present[gid].source.strip() != ref.source.strip():
                notes[gid] = f"The locked cell {gid} had been edited; the original was restored."
        return nb, resources


def imports_reference(source):
    """Whether a cell's code imports nnbasics (statically, via __import__ or importlib)."""
    try:
        with AST_LOCK:
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return "nnbasics" in source
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "nnbasics" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nnbasics":
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "nnbasics" in node.value:
            return True  # __import__("nnbasics"), importlib.import_module("nnbasics.x"), exec strings
    return False


class FlagReferenceImports(NbGraderPreprocessor):
    """Answers that import the reference implementation score 0 on their test, with a clear reason."""

    def preprocess(self, nb, resources):
        flagged = resources.setdefault("nnbasics", {}).setdefault("flagged", set())
        tests = [gid for gid, (kind, _) in graded_cells(resources["nbgrader"]["assignment"]).items() if kind == "test"]
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type != "code" or meta.get("locked") or not imports_reference(cell.source):
                continue
            # an answer cell costs its own test; an extra cell of the learner's could feed any answer
            flagged.update([f"test_{meta.get('grade_id')}"] if meta.get("solution") else tests)
        return nb, resources


def probe_source(cases, nonce):
    """The code that replaces a test cell in the kernel: call, encode, display; judge nothing."""
    payload = json.dumps([{k: checks.encode(getattr(c, k)) for k in ("fn", "args", "kwargs", "given")} for c in cases])
    return (
        "# nnbasics grade: runs your functions on this test's inputs; the grader judges the results.\n"
        f"_nnb_ns = {{'__name__': 'nnbasics_checks'}}\n"
        f"exec(compile({CHECKS_SOURCE!r}, 'nnbasics-checks', 'exec'), _nnb_ns)\n"
        f"_nnb_ns['probe']({payload!r}, {nonce!r}, globals())\n"
    )


class SealTests(NbGraderPreprocessor):
    """Replace every test cell by a probe; keep its cases, nonce and source in ``resources``."""

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        sources = graded_cells(assignment)
        sealed = resources.setdefault("nnbasics", {}).setdefault("sealed", {})
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type != "code" or gid not in sources or sources[gid][0] != "test":
                continue
            source = sources[gid][1]  # the trusted source, whatever the submission holds
            cases = record_cases(source)
            nonce = secrets.token_hex(8)
            sealed[gid] = {"cases": cases, "nonce": nonce, "source": source}
            cell.source = probe_source(cases, nonce)
        return nb, resources


def _error_output(message):
    return NotebookNode(output_type="error", ename="AssertionError", evalue=message, traceback=[message])


def verdict(outputs, sealed):
    """Judge a probe cell's outputs against its sealed cases: None if all pass, else the first failure."""
    records = [o for o in outputs if o.get("output_type") == "display_data" and checks.MIME in o.get("data", {})]
    if len(records) != 1:
        return "no result came back from the kernel" if not records else "the test produced several results"
    try:  # nbformat hands back NotebookNodes; the judge trusts only plain JSON types
        record = json.loads(json.dumps(records[0]["data"][checks.MIME]))
    except (TypeError, ValueError):
        return "the test's result was malformed"
    cases = sealed["cases"]
    if (
        not isinstance(record, dict)
        or record.get("nonce") != sealed["nonce"]
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
        state = resources.setdefault("nnbasics", {})
        sealed, feedback = state.get("sealed", {}), state.setdefault("feedback", {})
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if gid not in sealed:
                continue
            if gid in state.get("flagged", ()):
                why = "the notebook imports the nnbasics reference implementation, which is not allowed in an answer."
            else:
                why = verdict(cell.get("outputs", []), sealed[gid])
            cell.source = sealed[gid]["source"]
            cell.outputs = [] if why is None else [_error_output(why)]
            feedback[gid] = why
        return nb, resources


class ProbeExecute(Execute):
    """nbgrader's ``Execute``, stopping at the first limit: notebook time, output size, memory."""

    notebook_timeout = Float(120.0, help="wall-clock limit for the whole notebook, seconds").tag(config=True)
    max_output_bytes = Integer(1 << 20, help="output the kernel may send, bytes (test results aside)").tag(config=True)
    memory_mb = Integer(2048, help="the kernel's memory cap, for messages").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._deadline, self._bound_by = None, "cell"  # the notebook's clock starts with its first cell
        self._output_bytes, self._limit, self._recorded = 0, None, set()
        state = (resources or {}).get("nnbasics", {})
        sealed = state.get("sealed", {})
        self._probe_cells = {i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade_id") in sealed}
        km = km or state.get("kernel")  # launched ahead by the grader, so it boots while other work goes on
        try:
            return super().preprocess(nb, resources, km)
        except DeadKernelError:
            raise LimitExceeded(self._limit or "the kernel died (it exited, was killed or ran out of memory)") from None
        finally:
            if km is not None and self.km is not None:
                self._cleanup_kernel()  # nbclient leaves a kernel it did not start running

    def _get_timeout(self, cell):
        per_cell = super()._get_timeout(cell) or math.inf
        if self._deadline is None:
            self._deadline = monotonic() + self.notebook_timeout
        remaining = self._deadline - monotonic()
        self._bound_by = "notebook" if remaining < per_cell else "cell"
        return max(0.5, min(per_cell, remaining))

    async def _async_handle_timeout(self, timeout, cell=None):
        if self._bound_by == "notebook":
            raise LimitExceeded(f"the notebook took longer than its {self.notebook_timeout:g} s time limit")
        raise LimitExceeded(f"a cell ran longer than the {self.timeout:g} s per-cell time limit")

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._limit:
            raise LimitExceeded(self._limit)
        if any(str(o.get("ename", "")).endswith("MemoryError") for o in cell.get("outputs", [])):
            raise LimitExceeded(f"a cell ran out of memory (the cap is {self.memory_mb} MiB)")
        return cell

    execute_cell = run_sync(async_execute_cell)  # nbclient binds its own coroutine here; use ours

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        # each probe's first record is exempt: test results (e.g. a 256 x 512 init) are not learner output
        is_record = (
            cell_index in self._probe_cells
            and cell_index not in self._recorded
            and checks.MIME in content.get("data", {})
        )
        if is_record:
            self._recorded.add(cell_index)
        else:
            self._output_bytes += len(json.dumps(content, default=str))
            if self._output_bytes > self.max_output_bytes:
                if self._limit is None:
                    self._limit = f"the notebook printed more than {self.max_output_bytes // 1024} KiB of output"
                    self._kill = asyncio.ensure_future(self.km.shutdown_kernel(now=True))
                return None
        return super().output(outs, msg, display_id, cell_index)
