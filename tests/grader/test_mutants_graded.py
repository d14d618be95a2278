"""The exercises' mutation bank through ``nnbasics grade``: the verdicts taken outside the kernel agree.

One wrong answer of each class per notebook (``mutants.sample_per_class``),
plus a sigmoid that does not even parse, graded by the real command: each
must lose exactly its own test and nothing else, as it does when the
notebook's test cells assert in-process. The in-process run
(tests/exercises/test_mutants.py) covers every mutant of the bank.
"""

import os

from testkit import mutants
from testkit.notebooks import write

# a SyntaxError in sigmoid used to cost neuron_forward its points too; its tests now bind a stand-in (given=)
EXTRA = [("01_neuron", "sigmoid", "syntax: a missing colon after def")]


def _chosen():
    chosen = [(a, fn, i) for a in mutants.MUTANTS for fn, i, _ in mutants.sample_per_class(a)]
    for assignment, function, label in EXTRA:
        index = [m[0] for m in mutants.MUTANTS[assignment][function]].index(label)
        if (assignment, function, index) not in chosen:
            chosen.append((assignment, function, index))
    return chosen


def test_each_wrong_answer_loses_its_own_test_and_only_it(tmp_path, grade_json):
    chosen = {}
    for assignment, function, index in _chosen():
        path = write(mutants.build_submission(assignment, function, index), tmp_path / f"{function}-{index}.ipynb")
        chosen[path.name] = (assignment, function, index)
    status, out, err = grade_json(*sorted(tmp_path.iterdir()))
    assert status == 0, err
    assert len(out["notebooks"]) == len(chosen)
    for nb in out["notebooks"]:
        assignment, function, index = chosen[os.path.basename(nb["path"])]
        label = mutants.MUTANTS[assignment][function][index][0]
        assert nb["status"] == "graded", (assignment, function, label, nb["error"])
        failed = {t["grade_id"] for t in nb["tests"] if not t["passed"]}
        assert failed == {f"test_{function}"}, (assignment, function, label, nb["tests"])
        assert failed == set(mutants.failing_tests(assignment, function, index))  # same verdict as in-process
