"""Attacks on the grader: none may raise a score, or touch the grader, the gradebook or other submissions.

Each attack is a submission of 01_neuron whose ``sigmoid`` is wrong (it
returns zeros), plus code that tries to get ``test_sigmoid``'s points
anyway. Stock nbgrader falls for several of these (toolnotes: patched
numpy.testing, input transformers, reading ../../solutions, writing the
gradebook); ``nnbasics grade-class`` must not fall for any.
"""

import csv
import hashlib
import subprocess
import time
from pathlib import Path

import pytest
from testkit.attacks import ATTACKS, CAPPED, KEY_CALLS, MARK, WRONG, attacked, forget_keys, host_keys
from testkit.notebooks import REPO, solved, write


def tree_digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def attacked_class(tmp_path_factory, run, grader_env):
    course = tmp_path_factory.mktemp("attacked course")
    for name, code in ATTACKS.items():
        write(attacked(code), course / "submitted" / name / "01_neuron" / "01_neuron.ipynb")
    write(solved("01_neuron"), course / "submitted" / "honest" / "01_neuron" / "01_neuron.ipynb")
    write(solved("01_neuron", {"sigmoid": WRONG}), course / "submitted" / "wrong" / "01_neuron" / "01_neuron.ipynb")
    guarded = {"solutions": tree_digest(REPO / "solutions"), "submitted": tree_digest(course / "submitted")}
    proc = run("grade-class", course / "submitted", "--jobs", "2", cwd=course)
    time.sleep(0.5)  # let the kernels' namespaces finish tearing down before looking for leftovers
    return course, proc, guarded


def rows(course):
    with open(course / "class-grades.csv", newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def sigmoid_scores(course):
    """test_sigmoid's score per student, from the gradebook written by grade-class, via nbgrader's API."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {
            s.id: next(
                g.score
                for g in gb.find_submission_notebook("01_neuron", "01_neuron", s.id).grades
                if g.name == "test_sigmoid"
            )
            for s in gb.students
        }


def test_every_attack_scores_nothing_on_the_attacked_test(attacked_class):
    course, proc, _ = attacked_class
    assert proc.returncode in (0, 1), proc.stderr
    scores = sigmoid_scores(course)
    assert scores["honest"] > 0
    for name in ATTACKS:
        assert scores[name] == 0, name
    table = rows(course)
    honest = float(table["honest"]["score"])
    for name in ATTACKS:  # and no attack gained anything anywhere else either
        assert float(table[name]["score"] or 0) <= honest - scores["honest"], (name, table[name])  # crashed: ""


def test_kernel_killing_attacks_cost_only_their_own_cell(attacked_class):
    # issue 11: the kernel is restarted once without the killing cell, and the notebook graded as it is
    table = rows(attacked_class[0])
    for name in ("os_exit", "kill_kernel", *CAPPED):  # the caps kill the whole sandbox: a dead kernel, too
        assert table[name]["status"] == "graded", table[name]
        assert float(table[name]["score"]) == float(table["wrong"]["score"])  # the wrong sigmoid, nothing more
    assert table["honest"]["status"] == "graded" and table["wrong"]["status"] == "graded"


def test_the_grader_the_gradebook_and_other_submissions_are_intact(attacked_class, grader_env):
    course, _, guarded = attacked_class
    assert tree_digest(REPO / "solutions") == guarded["solutions"]
    assert tree_digest(course / "submitted") == guarded["submitted"]
    table = rows(course)
    assert float(table["honest"]["score"]) == float(table["honest"]["max_score"]) > 0
    export = subprocess.run(
        ["nbgrader", "export", "--to", "export.csv"], cwd=course, env=grader_env, capture_output=True, text=True
    )
    assert export.returncode == 0, export.stderr
    assert "honest" in (course / "export.csv").read_text()
    assert not Path("/tmp/owned").exists()  # written (if at all) inside the kernel's private /tmp


@pytest.mark.skipif(KEY_CALLS is None, reason="keyring system call numbers known for x86_64 and aarch64 only")
def test_nothing_is_left_in_the_grading_machines_keyrings(attacked_class):
    try:
        assert host_keys("left-behind") == []
    finally:
        forget_keys("left-behind")


def test_no_process_outlives_its_kernel(attacked_class):
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"sleep {MARK}" not in ps


def test_delegating_to_the_reference_is_named_in_the_feedback(tmp_path, grade_json):
    path = write(attacked(ATTACKS["import_reference"]), tmp_path / "lazy.ipynb")
    status, out, _ = grade_json(path)
    assert status == 0
    test = {t["grade_id"]: t for t in out["notebooks"][0]["tests"]}["test_sigmoid"]
    assert test["score"] == 0 and "nnbasics reference implementation" in test["feedback"]


FORGED = '{"score": 14.0, "max_score": 14.0, "notebooks": []}'


def test_what_the_kernel_writes_to_its_own_stdout_and_stderr_never_reaches_the_grader(tmp_path, grade_json):
    """Raw writes to file descriptors 1 and 2 (past ipykernel's streams) cannot forge --json or flood the terminal."""
    code = (
        "import os, sys\n"
        f"os.write(1, {FORGED!r}.encode() + b'\\n')\n"
        "os.write(2, b'Traceback (most recent call last): forged\\n' * 1000)\n"
        "print('FD-STDERR', file=sys.__stderr__, flush=True)\n"
    )
    path = write(attacked(code), tmp_path / "loud.ipynb")
    status, out, err = grade_json(path)  # (fails the test if stdout is not exactly one JSON object)
    assert status == 0 and out["notebooks"][0]["status"] == "graded"
    assert out["notebooks"][0]["score"] < out["notebooks"][0]["max_score"]  # its sigmoid is still wrong
    assert "forged" not in err and "FD-STDERR" not in err
