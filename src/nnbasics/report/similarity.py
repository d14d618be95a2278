"""Near-identical answer cells, for an instructor to review (never a penalty).

Two cells are compared as *canonical token sequences*: the code is parsed,
its docstrings are dropped, every identifier the author chose (variables,
arguments, function and class names, but not builtins, attribute names or
keyword-argument names) is renamed ``v0, v1, ...`` in order of first use,
and the tree is printed again by ``ast.unparse``, which also drops comments
and normalises formatting. The score of a pair is difflib's similarity ratio
of the two token sequences, ``2 M / T`` (``M`` tokens matched in order,
``T`` tokens in both), in [0, 1]: renaming variables, reformatting or
rewriting comments does not lower it; reordering statements or replacing a
loop by a comprehension does.

A learner's cell is compared with every other learner's cell of the same
``grade_id``, and its function (the top-level ``def`` or ``class`` named as
the ``grade_id``) with the course's own implementation of that name in
``nnbasics`` (``inspect.getsource``), which anyone can read. Cells shorter
than ``MIN_TOKENS`` tokens are not compared: there, independent answers are
often the same (``return np.maximum(z, 0)``). An answer shared by a large
group (more than ``common_limit(n)`` of ``n`` learners, as MOSS's ``-m``
option does) is the common answer to a well-posed question rather than a
sign of copying, and its pairs are not listed.

Cost: a class's cells are first grouped around a few leading forms (each
form is compared with the groups' first forms only), so that the common
answer costs one comparison per learner; the cells outside it are then
compared pair by pair, most pairs being ruled out by difflib's cheap upper
bounds. The grouping is greedy: a cell close to a member of the common
answer but not to its first form can stay outside it.
"""

import ast
import builtins
import difflib
import functools
import inspect
import io
import math
import tokenize

THRESHOLD = 0.9  # pairs scoring at least this are listed
MIN_TOKENS = 40  # shorter canonical code is not compared
COMMON_SHARE = 0.25  # a group of near-identical cells larger than this share of the class is the common answer
REFERENCE = "nnbasics"  # the ``b`` of a pair whose second cell is the course's own code

_KEEP = frozenset(dir(builtins))


class _Renamer(ast.NodeTransformer):
    """Renames the author's identifiers ``v0, v1, ...`` in order of first use; builtins keep their names."""

    def __init__(self):
        self.names = {}

    def _new(self, name):
        if name in _KEEP:
            return name
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_Name(self, node):
        node.id = self._new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self._new(node.arg)
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node):
        node.name = self._new(node.name)
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_alias(self, node):  # ``import numpy as np``: the alias is the author's name
        if node.asname:
            node.asname = self._new(node.asname)
        return node

    def visit_Global(self, node):
        node.names = [self._new(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global


def _drop_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]


def _named(tree, name):
    """The top-level ``def``/``class`` called ``name``, alone in a module; None if the cell has none."""
    found = [
        n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name == name
    ]
    return ast.Module(body=found[-1:], type_ignores=[]) if found else None


@functools.lru_cache(maxsize=4096)
def canonical(source, function=None):
    """The canonical token sequence of a code cell (or of its top-level ``function``), or None.

    Parameters
    ----------
    source : str
        Python source of a cell.
    function : str, optional
        Keep only the top-level ``def`` or ``class`` of this name (the whole
        cell when it has none).

    Returns
    -------
    tuple of str, or None
        The tokens (``"<in>"``/``"<de>"`` for indentation), or None when the
        source does not parse (such cells are not compared).
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if function is not None:
        tree = _named(tree, function) or tree
    _drop_docstrings(tree)
    tree = _Renamer().visit(tree)
    try:
        code = ast.unparse(tree)
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, ValueError, RecursionError):
        return None
    skip = (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER)
    marks = {tokenize.INDENT: "<in>", tokenize.DEDENT: "<de>"}
    return tuple(marks.get(t.type, t.string) for t in tokens if t.type not in skip)


def ratio(a, b):
    """difflib's similarity ratio ``2 M / T`` of two token sequences, in [0, 1]."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() if a or b else 1.0


class _Against:
    """Scores sequences against one fixed sequence ``b`` (difflib caches what it learns about ``b``)."""

    def __init__(self, b):
        self.matcher = difflib.SequenceMatcher(None, autojunk=False)
        self.matcher.set_seq2(b)

    def close(self, a):
        """``ratio(a, b)`` when it reaches ``THRESHOLD``, else None (cheap upper bounds rule most out first)."""
        m = self.matcher
        m.set_seq1(a)
        if m.real_quick_ratio() < THRESHOLD or m.quick_ratio() < THRESHOLD:
            return None
        score = m.ratio()
        return score if score >= THRESHOLD else None


def similarity(source_a, source_b, function=None):
    """The similarity score of two code cells (None if either does not parse); see the module docstring."""
    a, b = canonical(source_a, function), canonical(source_b, function)
    return None if a is None or b is None else ratio(a, b)


@functools.cache
def reference_source(name):
    """The source of the course's own ``nnbasics.<name>`` (a function or class of the package), or None."""
    import nnbasics

    try:
        obj = getattr(nnbasics, name)
    except AttributeError:  # quiz answers, or an attribute the package loads lazily and lacks
        return None
    if not (inspect.isfunction(obj) or inspect.isclass(obj)) or not obj.__module__.startswith("nnbasics"):
        return None
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):  # no source shipped (a zipped or compiled install)
        return None


def common_limit(n):
    """The largest group of near-identical cells, among ``n`` learners, whose pairs are still listed."""
    return max(3, math.floor(COMMON_SHARE * n))


def _groups(pairs, members):
    """Connected groups of ``members`` linked by ``pairs`` (a union-find over the pairs)."""
    parent = {m: m for m in members}

    def root(m):
        while parent[m] != m:
            parent[m] = parent[parent[m]]
            m = parent[m]
        return m

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups = {}
    for m in members:
        groups.setdefault(root(m), set()).add(m)
    return {m: groups[root(m)] for m in members}


def find_similar(assignment, grade_id, cells):
    """Near-identical pairs among learners' answer cells of one ``grade_id``, and each against the course's code.

    Parameters
    ----------
    assignment, grade_id : str
    cells : dict
        ``{student_id: source}`` of the answer cells.

    Returns
    -------
    pairs : list of dict
        ``{"assignment", "grade_id", "a", "b", "score"}``, ``a < b`` for two
        learners, ``b == "nnbasics"`` for the course's code; score rounded
        to 3 decimals; sorted by ``a``, then ``b``.
    common : list of set
        The groups of near-identical cells left out as the common answer.
    """

    def pair(a, b, score):
        return {"assignment": assignment, "grade_id": grade_id, "a": a, "b": b, "score": round(score, 3)}

    # Identical canonical forms are compared once: a class's common answer is often shared verbatim.
    members = {}
    for student in sorted(cells):
        form = canonical(cells[student])
        if form is not None and len(form) >= MIN_TOKENS:
            members.setdefault(form, []).append(student)
    limit = common_limit(len(cells))
    # 1. Common answers, found cheaply: each form joins the first group whose first form it is close to,
    #    the most shared forms first; a group of more than `limit` students is a common answer.
    leaders, group_of = [], {}
    for form in sorted(members, key=lambda f: (-len(members[f]), f)):
        joined = next((k for k, (_, against) in enumerate(leaders) if against.close(form) is not None), None)
        if joined is None:
            leaders.append((form, _Against(form)))
            joined = len(leaders) - 1
        group_of[form] = joined
    size = {}
    for form, k in group_of.items():
        size[k] = size.get(k, 0) + len(members[form])
    common = [{s for f, k in group_of.items() if k == g for s in members[f]} for g in sorted(size) if size[g] > limit]
    # 2. Every other form against every other, exactly; a group that grows past `limit` here is common too.
    rest = [f for f in members if size[group_of[f]] <= limit]
    close = {}
    for j, b in enumerate(rest):
        against = _Against(b)
        for i in range(j):
            score = against.close(rest[i])
            if score is not None:
                close[i, j] = score
    groups = _groups(close, range(len(rest)))
    weight = {i: sum(len(members[rest[k]]) for k in groups[i]) for i in groups}
    common += [
        {s for k in g for s in members[rest[k]]} for g in {frozenset(g) for i, g in groups.items() if weight[i] > limit}
    ]
    pairs = []
    for i, form in enumerate(rest):
        if weight[i] <= limit:
            pairs += [pair(a, b, 1.0) for n, a in enumerate(members[form]) for b in members[form][n + 1 :]]
    for (i, j), score in close.items():
        if weight[i] <= limit:
            pairs += [pair(*sorted((a, b)), score) for a in members[rest[i]] for b in members[rest[j]]]
    reference = reference_source(grade_id)
    ref_tokens = canonical(reference, grade_id) if reference else None
    if ref_tokens and len(ref_tokens) >= MIN_TOKENS:
        against, scores = _Against(ref_tokens), {}
        for student in sorted(cells):
            own = canonical(cells[student], grade_id)
            if own is None or len(own) < MIN_TOKENS:
                continue
            if own not in scores:
                scores[own] = against.close(own)
            if scores[own] is not None:
                pairs.append(pair(student, REFERENCE, scores[own]))
    pairs.sort(key=lambda p: (p["a"], p["b"] == REFERENCE, p["b"]))
    return pairs, sorted(common, key=sorted)
