"""The exercise notebooks keep the contracts the site, the grader and nbgrader rely on.

Structure (the contract's names and signatures (CONTRIBUTING.md), cell kinds, quizzes), the
checks cell equal to checks.py, test cells written only as check(...) cases,
released notebooks equal to a fresh nbgrader release and free of answers, and
every test case agreeing with the nnbasics reference implementations.
"""

import ast
import builtins
import functools
import re
import warnings

import markdown
import nbformat
import pytest

import nnbasics
from nnbasics.assignments import PAGES, site_link, site_url
from nnbasics.grading import authoring, checks

# the contract's table (CONTRIBUTING.md): the graded functions of each assignment, with their exact signatures
DESIGN = {
    "01_neuron": {
        "weighted_sum": "x, w, b",
        "sigmoid": "z",
        "relu": "z",
        "neuron_forward": 'x, w, b, activation="sigmoid"',
        "dense_forward": "X, W, b",
    },
    "02_learning_rate": {
        "sgd_step": "w, grad, lr",
        "gradient_descent": "grad_fn, w0, lr, steps",
        "max_stable_lr": "hessian",
        "step_decay": "lr0, epoch, drop=0.5, every=10",
        "cosine_decay": "lr0, step, total_steps, lr_min=0.0",
    },
    "03_initialization": {
        "fans": "shape",
        "calculate_gain": "nonlinearity, param=None",
        "xavier_uniform": "shape, gain=1.0, rng=None",
        "xavier_normal": "shape, gain=1.0, rng=None",
        "kaiming_uniform": 'shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None',
        "kaiming_normal": 'shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None',
    },
    "04_loss": {
        "mse": 'pred, target, reduction="mean"',
        "binary_cross_entropy": 'p, y, reduction="mean"',
        "bce_with_logits": 'logits, y, reduction="mean"',
        "softmax": "z, axis=-1",
        "log_softmax": "z, axis=-1",
        "cross_entropy": 'logits, target, reduction="mean"',
    },
    "05_chain_rule": {
        "Value": None,
        "linear_backward": "dout, X, W",
        "relu_backward": "dout, z",
        "sigmoid_backward": "dout, z",
        "numerical_gradient": "f, x, h=1e-5",
        "two_layer_grads": "X, y, params",
    },
}
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
HIDDEN_MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def meta(cell):
    return cell.metadata.get("nbgrader", {})


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def read(folder, assignment):
    return nbformat.read(authoring.notebook_path(authoring.ROOT, folder, assignment), as_version=4)


def signature(src):
    return ast.unparse(ast.parse(f"def f({src}): pass").body[0].args)


def regions(source, markers):
    """Lines inside ``markers`` regions, and lines outside them."""
    inside, outside, depth = [], [], 0
    for line in source.split("\n"):
        if line.strip() == markers[0]:
            depth += 1
        elif line.strip() == markers[1]:
            depth -= 1
        else:
            (inside if depth else outside).append(line)
    return inside, outside


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_checks_cell_is_checks_py(assignment, folder):
    first = code_cells(read(folder, assignment))[0]
    assert meta(first)["grade_id"] == "checks"
    assert meta(first)["locked"] and not meta(first)["grade"] and not meta(first)["solution"]
    assert first.source == authoring.checks_cell_source(), (
        f"the checks cell of {folder}/{assignment} differs from checks.py: run python -m nnbasics.grading.authoring"
    )
    assert first.metadata["jupyter"]["source_hidden"] is True


def test_graded_functions_follow_design(assignment):
    cells = code_cells(read("solutions", assignment))
    ids = [meta(c).get("grade_id") for c in cells]
    graded = [i for i in ids if i and i != "checks" and not i.startswith(("test_", "quiz_"))]
    assert graded == list(DESIGN[assignment]), "every graded function of the contract, in its order, nothing else"
    for name, sig in DESIGN[assignment].items():
        k = ids.index(name)
        sol, test = cells[k], cells[k + 1]
        assert meta(sol)["solution"] and not meta(sol)["grade"] and not meta(sol)["locked"]
        assert meta(test)["grade_id"] == f"test_{name}", f"{name}'s solution cell must be followed by its test cell"
        assert meta(test)["grade"] and meta(test)["locked"] and not meta(test)["solution"]
        assert meta(test)["points"] > 0
        tree = ast.parse(sol.source)
        defs = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        assert [d.name for d in defs] == [name], f"the {name} cell defines {name} and nothing else"
        assert ast.get_docstring(defs[0]), f"{name} has a docstring"
        if sig is not None:
            assert ast.unparse(defs[0].args) == signature(sig), (
                f"{name}'s signature differs from the contract (CONTRIBUTING.md)"
            )
            assert "Returns\n    -------" in ast.get_docstring(defs[0], clean=False), f"{name}: NumPy-style docstring"
        assert sol.source.count(SOLUTION_MARKERS[0]) >= 1
        assert HIDDEN_MARKERS[0] in test.source and HIDDEN_MARKERS[1] in test.source


def test_value_supports_the_design_operations():
    value = ast.parse(
        next(c.source for c in read("solutions", "05_chain_rule").cells if meta(c).get("grade_id") == "Value")
    )
    methods = {n.name for n in ast.walk(value) if isinstance(n, ast.FunctionDef)}
    wanted = {"__add__", "__mul__", "__pow__", "__sub__", "__truediv__", "__neg__", "__radd__", "__rmul__", "__rsub__"}
    assert wanted | {"__rtruediv__", "tanh", "relu", "exp", "backward"} <= methods


def test_quizzes(assignment):
    cells = code_cells(read("solutions", assignment))
    ids = [meta(c).get("grade_id") for c in cells]
    quizzes = [i for i in ids if i and i.startswith("quiz_")]
    assert len(quizzes) >= 4, "at least four graded quiz items per notebook"
    for n, quiz in enumerate(quizzes, start=1):
        assert quiz == f"quiz_{n}"
        k = ids.index(quiz)
        assert meta(cells[k])["solution"] and re.search(r"^answer = ", cells[k].source, re.M)
        assert meta(cells[k + 1])["grade_id"] == f"test_quiz_{n}" and meta(cells[k + 1])["points"] > 0
        assert meta(cells[k + 1])["locked"]
    assert ids[-1].startswith("test_quiz_"), "the quizzes come at the end"


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_intro_links_the_site_says_what_it_needs_and_how_to_grade(assignment, folder):
    intro = read(folder, assignment).cells[0]
    assert intro.cell_type == "markdown"
    assert f"]({site_link(assignment)})" in intro.source, "the concept page, at the site's public address"
    assert f"nnbasics grade {assignment}.ipynb" in intro.source
    for needed in ("Python 3.10", "NumPy", "`pip install numpy`", "`conda install numpy`", "Colab"):
        assert needed in intro.source, f"the first cell says what the notebook needs and how to install it: {needed}"


def _site_links(nb):
    return [m for c in nb.cells if c.cell_type == "markdown" for m in authoring.SITE_LINK.finditer(c.source)]


@functools.cache
def _anchors(page):
    """The heading ids MkDocs gives ``docs/<page>.md``: Python-Markdown's toc, code blocks left out."""
    text = (authoring.ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # a "# comment" in a code block is no heading
    md = markdown.Markdown(extensions=["toc", "attr_list"])
    md.convert(text)

    def ids(tokens):
        return {t["id"] for t in tokens} | {i for t in tokens for i in ids(t["children"])}

    return ids(md.toc_tokens)


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_links_to_the_site_use_its_public_address_and_lead_somewhere(assignment, folder):
    nb = read(folder, assignment)
    links = _site_links(nb)
    assert len(links) >= 3, "the concept page, the Exercises page, and sections of the concept page"
    assert not any("../../docs/" in c.source for c in nb.cells), "repository paths are dead in JupyterLab"
    for link in links:
        assert link["base"] == site_url(), link[0]
        assert (authoring.ROOT / "docs" / f"{link['page']}.md").is_file(), link[0]
        if link["anchor"]:
            assert link["anchor"][1:] in _anchors(link["page"]), f"{link[0]}: no such heading on the page"


@pytest.fixture
def other_site_url(monkeypatch):
    monkeypatch.setenv("NNBASICS_SITE_URL", "https://example.org/course")
    site_url.cache_clear()
    yield "https://example.org/course/"
    monkeypatch.undo()
    site_url.cache_clear()


def test_site_links_are_generated_from_site_url(assignment, other_site_url):
    nb = read("solutions", assignment)
    assert authoring.sync_notebook(nb), "a new site address changes the links"
    links = _site_links(nb)
    assert links and all(link["base"] == other_site_url for link in links)
    assert f"]({other_site_url}{PAGES[assignment].removesuffix('.md')}/)" in nb.cells[0].source
    assert not authoring.sync_notebook(nb), "and syncing again changes nothing"


@pytest.mark.parametrize("folder", ["solutions", "exercises"])
def test_committed_without_outputs(assignment, folder):
    for cell in code_cells(read(folder, assignment)):
        assert cell.outputs == [] and cell.execution_count is None


def test_solutions_use_numpy_and_math_only(assignment):
    for cell in code_cells(read("solutions", assignment)):
        if meta(cell).get("grade_id") == "checks":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                assert set(names) <= {"math", "numpy"}, f"{meta(cell).get('grade_id')}: imports {names}"
        assert "nnbasics" not in cell.source


def test_test_cells_only_call_check(assignment):
    """Learner names appear only as check's fn or inside its args/kwargs (the grader runs test cells itself)."""
    learner = set(DESIGN[assignment]) | {"Value", "answer"}
    forbidden = (ast.Import, ast.ImportFrom, ast.Assert, ast.FunctionDef, ast.ClassDef, ast.Lambda, ast.Global, ast.Try)
    for cell in code_cells(read("solutions", assignment)):
        if not meta(cell).get("grade"):
            continue
        gid = meta(cell)["grade_id"]
        tree = ast.parse(cell.source)
        allowed, checks = set(), 0
        for node in ast.walk(tree):
            assert not isinstance(node, forbidden), f"{gid}: {type(node).__name__} is not allowed in a test cell"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"print", "exec", "eval", "open", "__import__", "getattr"}, gid
                if node.func.id == "check":
                    checks += 1
                    keywords = {k.arg: k.value for k in node.keywords}
                    assert "expect" in keywords and isinstance(keywords.get("msg"), ast.Constant | ast.JoinedStr), gid
                    assert set(keywords) <= {"args", "kwargs", "expect", "rtol", "atol", "msg", "given"}, gid
                    for part in [*node.args[:3], keywords.get("args"), keywords.get("kwargs")]:
                        allowed |= {id(n) for n in ast.walk(part)} if part is not None else set()
        names = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id in learner]
        assert all(id(n) in allowed for n in names), f"{gid}: a learner name is used outside check(...)"
        visible, hidden = cell.source.split(HIDDEN_MARKERS[0])
        assert "check(" in visible and "check(" in hidden, f"{gid}: needs visible and hidden cases"
        assert checks >= 2, f"{gid}: too few cases"


def test_test_cells_are_self_contained(assignment):
    """A test cell reads only what it assigns, the helpers and the learner's names: the grader runs each alone."""
    known = {"np", "math", "check", "draws", "value_grads", "answer", *checks.TEST_NAMES, *DESIGN[assignment]}
    for cell in code_cells(read("solutions", assignment)):
        if not meta(cell).get("grade"):
            continue
        names = [n for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)]
        assigned = {n.id for n in names if isinstance(n.ctx, ast.Store)}
        free = {n.id for n in names if isinstance(n.ctx, ast.Load)} - assigned - known - set(dir(builtins))
        assert not free, f"{meta(cell)['grade_id']} reads {sorted(free)} from another cell"


def test_released_notebooks_hold_no_answers(assignment):
    source, released = read("solutions", assignment), read("exercises", assignment)
    secret, public = set(), set()
    for cell in source.cells:
        sol_in, sol_out = regions(cell.source, SOLUTION_MARKERS)
        hid_in, hid_out = regions("\n".join(sol_out), HIDDEN_MARKERS)
        secret |= {line.strip() for line in sol_in + hid_in}
        public |= {line.strip() for line in hid_out}
    secret = {s for s in secret - public if s and not s.startswith("#")}  # lines also shown to learners are not secrets
    assert len(secret) > 30
    stubs = 0
    for cell in released.cells:
        for marker in SOLUTION_MARKERS + HIDDEN_MARKERS:
            assert marker not in cell.source
        leaked = {line.strip() for line in cell.source.split("\n")} & secret
        assert not leaked, f"{assignment}: released cell {cell.id} shows {sorted(leaked)[:3]}"
        stubs += meta(cell).get("solution", False) and "raise NotImplementedError()" in cell.source
    assert stubs == sum(bool(meta(c).get("solution")) for c in released.cells)


def test_release_matches_committed(assignment, course):
    fresh = nbformat.read(authoring.notebook_path(course, "exercises", assignment), as_version=4)
    committed = read("exercises", assignment)
    assert fresh == committed, f"exercises/{assignment} is stale: run python -m nnbasics.grading.authoring"


def test_cases_agree_with_the_reference(assignment):
    """Every function test case, run against nnbasics' own implementations, passes: notebooks and core agree."""
    ns = {"__name__": "__main__"}
    failures = {}
    for cell in code_cells(read("solutions", assignment)):
        gid = meta(cell).get("grade_id")
        if gid and (gid.startswith(("quiz_", "test_quiz_")) or meta(cell).get("solution")):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                exec(compile(cell.source, f"<{assignment}:{gid}>", "exec"), ns)
            except AssertionError as e:
                failures[gid] = str(e)
        if gid == "checks":
            ns["REFERENCE_OK"] = True  # the nnbasics functions are allowed here, and only here
            ns.update({name: getattr(nnbasics, name) for name in DESIGN[assignment]})
    assert failures == {}
