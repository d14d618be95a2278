"""The quizzes measure understanding: at least four per notebook, and no guess pays.

Constant answers ("a" everywhere, ...) are graded in-process by the
notebooks' own test cells and may earn at most 40 % of a notebook's quiz
points; every wrong option has a mutant in the bank naming the misconception
it stands for, and every hidden check's message explains the right answer.
"""

import ast
import re

import pytest

LETTERS = ("a", "b", "c", "d")
MAX_GUESS_SHARE = 0.4


def _quizzes(bank, assignment):
    """``[(n, question markdown, answer cell, test cell)]`` of the source notebook, in order."""
    cells = bank.notebook("solutions", assignment).cells
    ids = [bank.grade_id(c) or c.id for c in cells]
    found = []
    for k, gid in enumerate(ids):
        if re.fullmatch(r"quiz_\d+", gid or ""):
            found.append((int(gid.split("_")[1]), cells[k - 1], cells[k], cells[k + 1]))
    return found


def _right(answer_cell):
    return re.search(r'^answer = "([a-d])"$', answer_cell.source, re.M)[1]


def _points(test_cell):
    return test_cell.metadata["nbgrader"]["points"]


@pytest.mark.parametrize("letter", LETTERS)
def test_a_constant_answer_earns_at_most_40_percent(bank, assignment, letter):
    quizzes = _quizzes(bank, assignment)
    assert len(quizzes) >= 4, "at least four graded quiz items"
    points = {bank.grade_id(test): _points(test) for _, _, _, test in quizzes}
    guess = {bank.grade_id(answer): f'answer = "{letter}"' for _, _, answer, _ in quizzes}
    failed = bank.failing_tests(assignment, replace=guess)
    assert set(failed) <= set(points), failed  # only quiz tests can notice a quiz answer
    earned = sum(p for gid, p in points.items() if gid not in failed)
    assert earned <= MAX_GUESS_SHARE * sum(points.values()), f'answer = "{letter}" everywhere earns {earned}'


def test_right_answers_are_spread(bank, assignment):
    letters = [_right(answer) for _, _, answer, _ in _quizzes(bank, assignment)]
    assert max(letters.count(x) for x in LETTERS) <= MAX_GUESS_SHARE * len(letters), letters


def test_every_wrong_option_is_a_named_misconception(bank, assignment):
    for n, question, answer, _ in _quizzes(bank, assignment):
        options = re.findall(r"^\* ([a-d])\) ", question.source, re.M)
        assert options == list(LETTERS), f"quiz_{n}: options a) to d), in order"
        right = _right(answer)
        mutants = bank.MUTANTS[assignment][f"quiz_{n}"]
        wrong = {re.search(r'answer = "([a-d])"', m[1][1])[1]: m[0] for m in mutants}
        assert set(wrong) == set(LETTERS) - {right}, f"quiz_{n}: one mutant per wrong option"
        assert all(bank.mutant_class(m) == "quiz" for m in mutants)


def test_hidden_checks_explain_the_right_answer(bank, assignment):
    for n, _, answer, test in _quizzes(bank, assignment):
        _, hidden = test.source.split("### BEGIN HIDDEN TESTS")
        calls = [c for c in ast.walk(ast.parse(hidden.split("### END HIDDEN TESTS")[0])) if isinstance(c, ast.Call)]
        checks = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "check"]
        assert len(checks) == 1, f"quiz_{n}: one hidden check"
        keywords = {k.arg: k.value for k in checks[0].keywords}
        assert ast.literal_eval(keywords["expect"].args[0]) == _right(answer), f"quiz_{n}: the hidden check's letter"
        msg = ast.literal_eval(keywords["msg"])
        # an explanation, not a question back or a bare hint: a full statement of why
        assert len(msg) >= 60 and not msg.rstrip().endswith("?"), f"quiz_{n}: {msg!r}"
