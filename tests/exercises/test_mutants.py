"""The tests inside the notebooks tell right answers from wrong ones, in-process and under real nbgrader.

In-process: every correct solution passes every test cell; every mutant of
the bank fails its own test cell and no other, so a bug in one function (a
SyntaxError in ``sigmoid`` included) costs only that function's test. The
bank holds every class of mistake that applies to each function (rules
below, derived from the notebooks, not from the bank). Real ``nbgrader
autograde`` (one run per assignment, several students at once) gives full
marks to the solutions, 0 to the released notebooks as they are, and, for one
mutant of each class per assignment, exactly the per-cell result the
in-process run predicts.
"""

import ast
import csv

import nbformat
import pytest
from nbgrader.api import Gradebook


def test_solutions_pass_every_test_cell(bank, assignment):
    assert bank.failing_tests(assignment) == {}


def test_mutant_fails_its_own_test_and_only_there(bank, mutant):
    assignment, function, index, label = mutant
    failed = bank.failing_tests(assignment, function, index)
    assert set(failed) == {f"test_{function}"}, f"{label}: {failed}"


def test_bank_has_three_mutants_per_graded_function(bank, assignment):
    functions = {fn: ms for fn, ms in bank.MUTANTS[assignment].items() if not fn.startswith("quiz_")}
    solutions = {gid for gid in bank.solution_sources(assignment) if not gid.startswith("quiz_")}
    assert set(functions) == solutions
    assert all(len(ms) >= 3 for ms in functions.values())


def test_every_mutant_is_labelled_with_a_class(bank, assignment):
    for function, mutants in bank.MUTANTS[assignment].items():
        for mutant in mutants:
            assert bank.mutant_class(mutant) in bank.CLASSES, f"{function}: {mutant[0]!r} has no known class"
            assert mutant[0].split(":", 1)[1].strip(), f"{function}: {mutant[0]!r} does not say what is wrong"


# graded functions that take arrays (so an in-place change of an input is a mistake to catch)
ARRAY_INPUTS = {
    "weighted_sum", "sigmoid", "relu", "neuron_forward", "dense_forward", "sgd_step", "gradient_descent",
    "max_stable_lr", "step_decay", "cosine_decay", "mse", "binary_cross_entropy", "bce_with_logits", "softmax",
    "log_softmax", "cross_entropy", "linear_backward", "relu_backward", "sigmoid_backward", "numerical_gradient",
    "two_layer_grads",
}  # fmt: skip
NOT_FLOAT = {"fans", "Value"}  # fans returns ints; Value is a class, checked through value_grads' floats


def _callees(assignment, bank):
    """``{caller: {graded functions its solution calls}}``, read from the solution cells' code."""
    sources = {gid: src for gid, src in bank.solution_sources(assignment).items() if not gid.startswith("quiz_")}
    calls = {}
    for caller, src in sources.items():
        names = {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        calls[caller] = (names & set(sources)) - {caller}
    return calls


def _signature(bank, assignment, function):
    tree = ast.parse(bank.strip_markers(bank.solution_sources(assignment)[function]))
    node = tree.body[0]
    return {a.arg for a in node.args.args} if isinstance(node, ast.FunctionDef) else set()


def test_every_class_that_applies_has_mutants(bank, assignment):
    """NaN/inf for every float-returning function, rng and distribution for every initialiser, and so on."""
    tests = {bank.grade_id(c): c.source for c in bank.notebook("solutions", assignment).cells}
    callees = _callees(assignment, bank)
    called = set().union(*callees.values())
    for function, mutants in bank.MUTANTS[assignment].items():
        if function.startswith("quiz_"):
            continue
        classes = [bank.mutant_class(m) for m in mutants]
        params = _signature(bank, assignment, function)
        required = {"value"}
        required |= set() if function in NOT_FLOAT else {"nan", "inf"}
        required |= {"inplace"} if function in ARRAY_INPUTS else set()
        required |= {"dtype"} if "float32" in tests[f"test_{function}"] or "rng" in params else set()
        required |= {"rng", "dist"} if "rng" in params else set()
        required |= {"reduction"} if "reduction" in params else set()
        required |= {"axis"} if "axis" in params else set()
        required |= {"syntax"} if function in called else set()
        assert required <= set(classes), f"{function} lacks mutants of the classes {sorted(required - set(classes))}"
        if "rng" in params:
            assert classes.count("rng") >= 4, f"{function}: every way of not drawing from rng"


def test_callers_bind_stand_ins_for_the_functions_they_call(bank, assignment):
    """A test of f passes ``given=`` for every graded function f's solution calls, in every case."""
    tests = {bank.grade_id(c): c.source for c in bank.notebook("solutions", assignment).cells}
    for caller, callees in _callees(assignment, bank).items():
        if not callees:
            continue
        calls = [n for n in ast.walk(ast.parse(tests[f"test_{caller}"])) if isinstance(n, ast.Call)]
        checks = [n for n in calls if isinstance(n.func, ast.Name) and n.func.id == "check"]
        assert checks and all(any(k.arg == "given" for k in c.keywords) for c in checks), caller
        for callee in callees:
            assert f'"{callee}": Lambda(' in tests[f"test_{caller}"], f"test_{caller} has no stand-in for {callee}"


# design details the hidden tests must hold every implementation to, each with a mutant that breaks it
DESIGN_DETAILS = [
    ("01_neuron", "sigmoid", "stability: naive 1 / (1 + exp(-z)) overflows"),  # no warning for finite inputs
    ("04_loss", "softmax", "stability: no max shift"),
    ("04_loss", "log_softmax", "stability: log of softmax"),
    ("04_loss", "bce_with_logits", "stability: naive softplus overflows"),
    ("05_chain_rule", "relu_backward", "value: passes gradient at z == 0"),
    ("05_chain_rule", "Value", "value: relu passes gradient at 0"),
    ("02_learning_rate", "cosine_decay", "value: not clamped after total_steps"),
    ("02_learning_rate", "max_stable_lr", "raise: no symmetry check"),
    ("02_learning_rate", "max_stable_lr", "raise: largest |eigenvalue|, no PSD check"),
    ("05_chain_rule", "Value", "value: __rsub__ as self - other"),
    ("05_chain_rule", "Value", "value: __rtruediv__ as self / other"),
    ("05_chain_rule", "Value", "value: no __radd__ (3 + a fails)"),
    ("05_chain_rule", "Value", "value: no __rmul__ (2 * a fails)"),
    ("01_neuron", "weighted_sum", "reduction: np.sum(x * w) sums the whole batch"),  # x of shape (D,) or (N, D)
    ("01_neuron", "neuron_forward", "reduction: np.sum(x * w) sums the whole batch"),
]


@pytest.mark.parametrize("detail", DESIGN_DETAILS, ids=[f"{a}-{f}" for a, f, _ in DESIGN_DETAILS])
def test_design_details_are_held_by_a_mutant(bank, detail):
    assignment, function, label = detail
    labels = [m[0] for m in bank.MUTANTS[assignment][function]]
    assert label in labels
    assert set(bank.failing_tests(assignment, function, labels.index(label))) == {f"test_{function}"}


def test_syntax_error_in_sigmoid_costs_only_sigmoid(bank):
    """The case of issue 13: one missing colon used to cost neuron_forward its points as well."""
    labels = [m[0] for m in bank.MUTANTS["01_neuron"]["sigmoid"]]
    failed = bank.failing_tests("01_neuron", "sigmoid", labels.index("syntax: a missing colon after def"))
    assert set(failed) == {"test_sigmoid"} and "NameError" in failed["test_sigmoid"]


def test_sample_has_one_mutant_per_class(bank, assignment):
    sample = bank.sample_per_class(assignment)
    classes = {bank.mutant_class(bank.MUTANTS[assignment][fn][i]) for fn, i, _ in sample}
    present = {bank.mutant_class(m) for ms in bank.MUTANTS[assignment].values() for m in ms}
    assert classes == present and len(sample) == len(classes)


def _scores(course, assignment, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades if g.max_score > 0}


@pytest.mark.slow
def test_real_autograde_agrees(bank, course_copy, run_nbgrader, assignment):
    course = course_copy
    sample = bank.sample_per_class(assignment)  # one mutant of each class: the in-process run covers all
    students = {"solution": bank.build_submission(assignment), "released": bank.notebook("exercises", assignment)}
    for k, (function, index, _) in enumerate(sample):
        students[f"mutant{k}"] = bank.build_submission(assignment, function, index)
    for student, nb in students.items():
        path = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
    done = run_nbgrader(course, "autograde", assignment, "--force")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Removing failed assignment" not in done.stderr, done.stderr[-2000:]  # a crash would not be an honest 0

    solution = _scores(course, assignment, "solution")
    assert solution and all(score == top for score, top in solution.values()), solution
    released = _scores(course, assignment, "released")
    assert set(released) == set(solution) and all(score == 0 for score, _ in released.values()), released
    for k, (function, index, label) in enumerate(sample):
        mutant = _scores(course, assignment, f"mutant{k}")
        lost = {name for name, (score, top) in mutant.items() if score < top}
        assert lost == set(bank.failing_tests(assignment, function, index)) == {f"test_{function}"}, label

    if assignment != "01_neuron":
        return  # `nbgrader export` costs seconds; showing once that it reports the same scores is enough
    exported = run_nbgrader(course, "export", "--to", f"grades_{assignment}.csv")
    assert exported.returncode == 0, exported.stderr[-2000:]
    with open(course / f"grades_{assignment}.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == assignment}
    top = sum(t for _, t in solution.values())
    assert float(rows["solution"]["score"]) == top == float(rows["solution"]["max_score"])
    assert float(rows["released"]["score"]) == 0.0
    for k, (function, _, _) in enumerate(sample):
        assert float(rows[f"mutant{k}"]["score"]) == top - solution[f"test_{function}"][1]
