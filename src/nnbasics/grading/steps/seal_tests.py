"""``SealTests``: keep every test cell's expectations in the grader and send the kernel only a probe.

Each test cell's *trusted* source (the source notebook's, whatever the
submission holds) is run here with a recording ``check``, which turns it into
``Case`` data. The cell is then replaced by a probe: code that calls the
learner's functions on the recorded inputs and displays the outputs as JSON
data. Expectations, tolerances and messages never enter the kernel.
"""

import ast
import builtins
import json
import math
import secrets

import numpy as np
from nbgrader.preprocessors import NbGraderPreprocessor

from .. import checks
from ..course import AST_LOCK, graded_cells, nbgrader_meta
from .state import Case, Sealed, state


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


def probe_source(cases, nonce):
    """The code that replaces a test cell in the kernel: call, encode, display; judge nothing."""
    payload = json.dumps([{k: checks.encode(getattr(c, k)) for k in ("fn", "args", "kwargs", "given")} for c in cases])
    # The helpers run afresh in a namespace of their own for every test, from the code object the kernel compiled
    # at boot (kernel_boot.py): sending and compiling their 34 KB of source cost 15 ms a test.
    return (
        "# nnbasics grade: runs your functions on this test's inputs; the grader judges the results.\n"
        "_nnb_ns = {'__name__': 'nnbasics_checks'}\n"
        "exec(__import__('sys')._nnbasics_checks, _nnb_ns)\n"
        f"_nnb_ns['probe']({payload!r}, {nonce!r}, globals())\n"
    )


class SealTests(NbGraderPreprocessor):
    """Replace every test cell by a probe; keep its cases, nonce and source in the grading state."""

    def preprocess(self, nb, resources):
        sources = graded_cells(resources["nbgrader"]["assignment"])
        sealed = state(resources).sealed
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            if cell.cell_type != "code" or gid not in sources or sources[gid][0] != "test":
                continue
            source = sources[gid][1]  # the trusted source, whatever the submission holds
            cases = record_cases(source)
            sealed[gid] = Sealed(cases=cases, nonce=secrets.token_hex(8), source=source)
            cell.source = probe_source(cases, sealed[gid].nonce)
        return nb, resources
