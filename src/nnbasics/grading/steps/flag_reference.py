"""``FlagReferenceImports``: an answer that imports the course's reference implementation scores 0."""

import ast

from nbgrader.preprocessors import NbGraderPreprocessor

from ..course import AST_LOCK, nbgrader_meta, test_ids
from .state import state


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
    """Flag the tests whose answers import ``nnbasics``; ``JudgeTests`` fails them with the reason."""

    def preprocess(self, nb, resources):
        flagged = state(resources).flagged
        tests = test_ids(resources["nbgrader"]["assignment"])
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type != "code" or meta.get("locked") or not imports_reference(cell.source):
                continue
            # an answer cell costs its own test; an extra cell of the learner's could feed any answer
            flagged.update([f"test_{meta.get('grade_id')}"] if meta.get("solution") else tests)
        return nb, resources
