"""The tests inside the notebooks tell right answers from wrong ones, in-process and under real nbgrader.

In-process: every correct solution passes every test cell; every mutant of
the bank fails its own test cell and no other. Real ``nbgrader autograde``
(one run per assignment, several students at once) gives full marks to the
solutions, 0 to the released notebooks as they are, and, for one mutant per
assignment, exactly the per-cell result the in-process run predicts.
"""

import csv

import nbformat
import pytest
from nbgrader.api import Gradebook

# one mutant per assignment goes through real nbgrader: warnings, in-place changes, statistics, stability, graphs
AUTOGRADED_MUTANTS = {
    "01_neuron": ("sigmoid", "naive 1 / (1 + exp(-z)) overflows"),
    "02_learning_rate": ("sgd_step", "updates w in place"),
    "03_initialization": ("kaiming_uniform", "He with fan_out"),
    "04_loss": ("softmax", "no max shift"),
    "05_chain_rule": ("Value", "no topological order"),
}


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


def test_submission_fills_answers_and_keeps_released_tests(bank):
    nb = bank.build_submission("01_neuron", "sigmoid", 0)
    released = bank.notebook("exercises", "01_neuron")
    assert [c.id for c in nb.cells] == [c.id for c in released.cells]
    cells = {bank.grade_id(c): c.source for c in nb.cells}
    assert "return 1 / (1 + np.exp(-z))" in cells["sigmoid"] and "NotImplementedError" not in cells["relu"]
    assert all("### BEGIN" not in src for gid, src in cells.items() if gid != "checks")
    assert cells["test_sigmoid"] == next(c.source for c in released.cells if bank.grade_id(c) == "test_sigmoid")


def _scores(course, assignment, student):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        nb = gb.find_submission_notebook(assignment, assignment, student)
        return {g.name: (g.score, g.max_score) for g in nb.grades if g.max_score > 0}


@pytest.mark.slow
def test_real_autograde_agrees(bank, course_copy, run_nbgrader, assignment):
    course = course_copy
    function, label = AUTOGRADED_MUTANTS[assignment]
    index = [m[0] for m in bank.MUTANTS[assignment][function]].index(label)
    students = {
        "solution": bank.build_submission(assignment),
        "released": bank.notebook("exercises", assignment),
        "mutant": bank.build_submission(assignment, function, index),
    }
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
    mutant = _scores(course, assignment, "mutant")
    lost = {name for name, (score, top) in mutant.items() if score < top}
    assert lost == set(bank.failing_tests(assignment, function, index)) == {f"test_{function}"}

    if assignment != "01_neuron":
        return  # `nbgrader export` costs seconds; showing once that it reports the same scores is enough
    exported = run_nbgrader(course, "export", "--to", f"grades_{assignment}.csv")
    assert exported.returncode == 0, exported.stderr[-2000:]
    with open(course / f"grades_{assignment}.csv") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == assignment}
    top = sum(t for _, t in solution.values())
    assert float(rows["solution"]["score"]) == top == float(rows["solution"]["max_score"])
    assert float(rows["released"]["score"]) == 0.0
    assert float(rows["mutant"]["score"]) == top - solution[f"test_{function}"][1]
