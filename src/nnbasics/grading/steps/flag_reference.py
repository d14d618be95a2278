"""``FlagReferenceImports``: an answer that imports the course's reference implementation scores 0.

The check reads a cell's code, never its comments or docstrings. A cell
refers to the reference package when its code

1. imports it: ``import nnbasics``, ``from nnbasics.x import y``;
2. names it: the name ``nnbasics``, or an attribute ``.nnbasics``;
3. holds it as a string in an expression (not a docstring or another bare
   string statement): a string that is the package's dotted name
   (``"nnbasics"``, ``"nnbasics.activations"``), also when built from
   string pieces (``"nn" + "basics"``, f-strings of constants); this covers
   ``__import__("nnbasics")``, ``importlib.import_module("nnbasics.x")``,
   ``getattr(__builtins__, "__import__")("nnbasics")`` and
   ``sys.modules["nnbasics"]`` alike, whatever function receives it;
4. holds a string of code that imports it, or holds its name in turn
   (``exec("import nnbasics")``, an IPython magic such as ``%time import
   nnbasics``): a string that merely parses, as ``"application/vnd.nnbasics+json"``
   does, is not code that refers to it.

A cell that is not Python is read through IPython's own transformations
(magics, ``!`` commands); if it still does not parse, its tokens are read
(comments and strings aside). This is a courtesy on top of the real
defences: the sandboxed kernel cannot import the package at all, and a
result computed by its code fails (``checks.judge`` checks the function's
module).
"""

import ast
import io
import re
import tokenize

from nbgrader.preprocessors import NbGraderPreprocessor

from ..course import AST_LOCK, nbgrader_meta, test_ids
from .state import state

PACKAGE = "nnbasics"
_DOTTED = re.compile(rf"^\s*{PACKAGE}(\.[A-Za-z_]\w*)*\s*$")
_MAX_DEPTH = 3  # strings of code inside strings of code


def _parse(source):
    """The cell's syntax tree, read as IPython would run it; None if it is not Python."""
    with AST_LOCK:
        try:
            return ast.parse(source)
        except (SyntaxError, ValueError):
            pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        python = TransformerManager().transform_cell(source)
    except Exception:  # IPython's transformers raise what they like on broken input
        return None
    with AST_LOCK:
        try:
            return ast.parse(python)
        except (SyntaxError, ValueError):
            return None


def _string(node):
    """The value of a string expression built from constants only, else None."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string(node.left), _string(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_string(v) for v in node.values]
        return None if None in parts else "".join(parts)
    if isinstance(node, ast.FormattedValue) and node.conversion == -1 and node.format_spec is None:
        return _string(node.value)
    return None


def _bare_strings(tree):
    """The nodes of string statements that do nothing (docstrings and the like): never read."""
    bare = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and _string(node.value) is not None:
            bare.update(id(n) for n in ast.walk(node.value))
    return bare


def _tokens_refer(source):
    """For a cell that does not parse: does a NAME token (not a comment, not a string) name the package?"""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and tok.string == PACKAGE:
                return True
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # the tokens read so far were checked
    return False


def imports_reference(source):
    """Whether a cell's code refers to the nnbasics package (see the module docstring for the rule)."""
    tree = _parse(source)
    return _tokens_refer(source) if tree is None else _refers(tree, 0)


def _refers(tree, depth):
    bare = _bare_strings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == PACKAGE for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == PACKAGE:
            return True
        if depth == 0 and (
            (isinstance(node, ast.Name) and node.id == PACKAGE)
            or (isinstance(node, ast.Attribute) and node.attr == PACKAGE)
        ):
            return True  # (in a string of code, only its imports count: "a/vnd.nnbasics.x" parses too)
        text = None if id(node) in bare else _string(node)
        if text is None or PACKAGE not in text:
            continue
        if _DOTTED.match(text):
            return True
        inner = _parse(text) if depth < _MAX_DEPTH else None  # a string of code: read too, if it is code
        if inner is not None and _refers(inner, depth + 1):
            return True
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
