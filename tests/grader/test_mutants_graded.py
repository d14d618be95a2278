"""The exercises' mutation bank through ``nnbasics grade``: the verdicts taken outside the kernel agree.

One plausible wrong answer per graded function (the bank's first), graded by
the real command: each must lose exactly its own test and nothing else,
as it does when the notebook's test cells assert in-process.
"""

import os

from testkit import mutants
from testkit.notebooks import write


def test_each_wrong_answer_loses_its_own_test_and_only_it(tmp_path, grade_json):
    chosen = {}
    for assignment, functions in mutants.MUTANTS.items():
        for function in functions:
            path = write(mutants.build_submission(assignment, function, 0), tmp_path / f"{function}.ipynb")
            chosen[path.name] = (assignment, function)
    status, out, err = grade_json(*sorted(tmp_path.iterdir()))
    assert status == 0, err
    for nb in out["notebooks"]:
        assignment, function = chosen[os.path.basename(nb["path"])]
        failed = {t["grade_id"] for t in nb["tests"] if not t["passed"]}
        assert failed == {f"test_{function}"}, (assignment, function, nb["tests"])
        assert failed == set(mutants.failing_tests(assignment, function, 0))  # same verdict as in-process
