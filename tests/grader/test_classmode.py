"""``nnbasics grade-class``: the CSV of CONTRIBUTING.md, nbgrader's layout, the journal, resubmission, bad input.

Most tests read one class graded once per test run (``testkit.classroom``):
correct, wrong, empty and quiz-blank students for all five assignments, and
for 01_neuron an attack, a dying kernel, a file that is not a notebook, a link
to a classmate's file, a FIFO and another assignment's notebook.
"""

import csv
import hashlib
import json
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from testkit import classroom
from testkit.notebooks import solved, write

from nnbasics.assignments import ASSIGNMENTS
from nnbasics.grading import results
from nnbasics.grading.classmode import HEADER
from nnbasics.grading.gradebook import points

COLUMNS = "student_id,assignment,status,score,max_score,reason,graded_at,notebook_sha256"


@pytest.fixture(scope="session")
def graded(tmp_path_factory, run):
    return classroom.graded_class(tmp_path_factory, run)


def read(path):
    with open(path, newline="") as f:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}


def full(assignment):
    return sum(points(assignment).values())


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_the_csv_has_the_contract_columns_statuses_and_reasons(graded):
    root, proc = graded
    assert proc["returncode"] == 1, proc["stderr"]  # some submissions are crashed or invalid
    assert "Traceback" not in proc["stderr"]
    assert (root / "class-grades.csv").read_text().splitlines()[0] == COLUMNS == ",".join(HEADER)
    assert not (root / "grades.csv").exists()  # nbgrader export's file name is left alone
    rows = read(root / "class-grades.csv")
    for a in ASSIGNMENTS:
        assert rows["correct", a]["status"] == "graded" and float(rows["correct", a]["score"]) == full(a) > 0
        assert rows["empty", a]["status"] == "graded" and float(rows["empty", a]["score"]) == 0
        assert 0 <= float(rows["wrong", a]["score"]) < full(a)
        assert float(rows["quizblank", a]["score"]) < full(a)
        for student in ("correct", "wrong", "empty", "quizblank"):
            row = rows[student, a]
            assert row["reason"] == "" and row["graded_at"] and float(row["max_score"]) == full(a)
            assert row["notebook_sha256"] == sha(root / "submitted" / student / a / f"{a}.ipynb")
    crashed = rows["crashed", "01_neuron"]
    assert crashed["status"] == "crashed" and crashed["score"] == "" and "kernel died" in crashed["reason"]
    assert float(crashed["max_score"]) == full("01_neuron")
    reasons = {
        "invalid": "not valid JSON",
        "linked": "link to a file outside its own folder",  # a classmate's file is not this student's work
        "fifo": "not a regular file",
        "mixup": "is the notebook of 04_loss, not of 01_neuron",
    }
    for student, why in reasons.items():
        row = rows[student, "01_neuron"]
        assert row["status"] == "invalid" and row["score"] == "" and why in row["reason"], row
    assert float(rows["attacker", "01_neuron"]["score"]) == full("01_neuron") - points("01_neuron")["test_sigmoid"]
    # students who handed in 01_neuron only get a missing row for every assignment the others submitted
    for student in classroom.ONLY_FIRST:
        for a in ASSIGNMENTS[1:]:
            row = rows[student, a]
            assert row["status"] == "missing" and row["score"] == "" and row["notebook_sha256"] == "", row
            assert f"{student}/{a}" in row["reason"]
    assert len(rows) == len(classroom.FULL) * 5 + len(classroom.ONLY_FIRST) * 5


def test_the_summary_names_every_submission_not_graded(graded):
    root, proc = graded
    last = proc["stdout"].strip().splitlines()[-1]
    rows = read(root / "class-grades.csv").values()
    for row in rows:
        name = f"{row['student_id']}/{row['assignment']} ({row['status']})"
        assert (name in last) == (row["status"] != "graded"), name


def test_gradebook_journal_and_export_agree_with_the_csv(graded, grader_env, tmp_path):
    root, _ = graded
    rows = read(root / "class-grades.csv")
    journal = results.load(root)
    assert set(journal) == {k for k, r in rows.items() if r["status"] != "missing"}
    assert len(results.journal_path(root).read_text().splitlines()) == len(journal)  # each graded once
    for key, rec in journal.items():
        assert rec["notebook_sha256"] == rows[key]["notebook_sha256"] and rec["entry"]["status"] == rows[key]["status"]
    assert "def relu" in journal["correct", "01_neuron"]["answers"]["relu"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for (student, a), row in rows.items():
            if row["status"] == "missing":
                continue
            nb = gb.find_submission_notebook(a, a, student)
            if row["status"] == "graded":
                assert nb.score == float(row["score"]) and not nb.needs_manual_grade
            else:  # no score, flagged for review, the reason on every answer cell as formgrader shows it
                assert all(g.auto_score is None for g in nb.grades) and nb.needs_manual_grade
                assert all(row["reason"] in c.comment for c in nb.comments)
        wrong = gb.find_submission_notebook("01_neuron", "01_neuron", "wrong")
        comments = {c.name: c.comment for c in wrong.comments}
        assert "sigmoid" in (comments["sigmoid"] or "")  # a failed test's feedback, on its answer cell
    export = subprocess.run(
        ["nbgrader", "export", "--to", str(tmp_path / "export.csv")],
        cwd=root,
        env=grader_env,
        capture_output=True,
        text=True,
    )
    assert export.returncode == 0, export.stderr
    exported = read_export(tmp_path / "export.csv")
    for key, row in rows.items():
        if row["status"] == "graded":
            assert float(exported[key]["score"]) == float(row["score"])


def read_export(path):
    with open(path, newline="") as f:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}


def test_nbgraders_layout_is_written(graded):
    root, _ = graded
    rows = read(root / "class-grades.csv")
    for (student, a), row in rows.items():
        graded_nb = root / "autograded" / student / a / f"{a}.ipynb"
        page = root / "feedback" / student / a / f"{a}.html"
        produced = row["status"] in ("graded", "crashed")
        assert graded_nb.exists() == produced and page.exists() == produced, (student, a)
    nb = nbformat.read(root / "autograded" / "wrong" / "01_neuron" / "01_neuron.ipynb", as_version=4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid")
    assert "BEGIN HIDDEN TESTS" in test.source and test.outputs[0]["ename"] == "AssertionError"
    assert not (root / "submitted" / "gradebook.db").exists()


def test_resubmission_student_and_assignment_select_what_is_regraded(graded, run, tmp_path):
    root = classroom.copy_course(graded[0], tmp_path / "course")
    log = results.journal_path(root)
    lines = log.read_text().count("\n")
    again = run("grade-class", "submitted", "--jobs", "2", cwd=root)
    assert "graded 0 submission(s)" in again.stdout and log.read_text().count("\n") == lines, again.stdout

    resubmitted = root / "submitted" / "wrong" / "01_neuron" / "01_neuron.ipynb"
    write(solved("01_neuron"), resubmitted)  # the learner handed in a corrected notebook
    again = run("grade-class", "submitted", "--jobs", "2", cwd=root)
    assert "graded 1 submission(s)" in again.stdout, again.stdout + again.stderr
    row = read(root / "class-grades.csv")["wrong", "01_neuron"]
    assert float(row["score"]) == full("01_neuron") and row["notebook_sha256"] == sha(resubmitted)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission_notebook("01_neuron", "01_neuron", "wrong").score == full("01_neuron")

    forced = run("grade-class", "submitted", "--force", "--student", "empty", "--assignment", "01_neuron", cwd=root)
    assert "graded 1 submission(s)" in forced.stdout, forced.stdout + forced.stderr
    new = [json.loads(line) for line in log.read_text().splitlines()[lines:]]
    assert [(r["student_id"], r["assignment"]) for r in new] == [("wrong", "01_neuron"), ("empty", "01_neuron")]
    assert len(read(root / "class-grades.csv")) == len(read(graded[0] / "class-grades.csv"))


def test_a_resume_repairs_what_the_gradebook_and_the_csv_lost(graded, run, tmp_path):
    root = classroom.copy_course(graded[0], tmp_path / "course")
    want = (root / "class-grades.csv").read_text()
    lines = results.journal_path(root).read_text().count("\n")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for g in gb.find_submission_notebook("01_neuron", "01_neuron", "correct").grades:
            g.auto_score = 0.0  # as if the run had stopped between the journal and the gradebook
        gb.db.commit()
        gb.remove_submission("04_loss", "wrong")
    (root / "class-grades.csv").write_text(want.splitlines()[0] + "\n")
    (root / "feedback" / "empty" / "02_learning_rate" / "02_learning_rate.html").unlink()
    again = run("grade-class", "submitted", "--feedback", cwd=root)
    assert "graded 0 submission(s)" in again.stdout and "repaired" in again.stdout, again.stdout + again.stderr
    assert results.journal_path(root).read_text().count("\n") == lines  # nothing was graded again
    assert read(root / "class-grades.csv") == read_rows(want)
    assert (root / "feedback" / "empty" / "02_learning_rate" / "02_learning_rate.html").exists()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission_notebook("01_neuron", "01_neuron", "correct").score == full("01_neuron")
        assert gb.find_submission_notebook("04_loss", "04_loss", "wrong").score == float(
            read_rows(want)["wrong", "04_loss"]["score"]
        )


def read_rows(text):
    return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(text.splitlines())}


# -- bad input: one sentence, exit 2, nothing written --------------------------------------------


def _course(tmp_path):
    sub = tmp_path / "submitted"
    write(solved("01_neuron"), sub / "ada" / "01_neuron" / "01_neuron.ipynb")
    return sub


LAYOUTS = {
    "course root": (lambda sub: sub.parent, "looks like a course root"),
    "notebooks directly": (
        lambda sub: _move(sub / "ada" / "01_neuron" / "01_neuron.ipynb", sub / "01_neuron.ipynb"),
        "holds notebooks",
    ),
    "reversed": (lambda sub: _move(sub / "ada" / "01_neuron", sub / "01_neuron" / "ada"), "assignment folder where"),
    "unknown assignment": (
        lambda sub: _move(sub / "ada" / "01_neuron", sub / "ada" / "01_nueron"),
        "not an assignment of this course (did you mean 01_neuron?)",
    ),
    "empty class": (
        lambda sub: _move(sub / "ada" / "01_neuron" / "01_neuron.ipynb", sub.parent / "elsewhere.ipynb"),
        "no submission found",
    ),
    "two notebooks": (
        lambda sub: write(solved("01_neuron"), sub / "ada" / "01_neuron" / "copy.ipynb").parent.parent.parent,
        "holds 2 notebooks",
    ),
    "another assignment's notebook": (
        lambda sub: _move(sub / "ada" / "01_neuron" / "01_neuron.ipynb", sub / "ada" / "01_neuron" / "04_loss.ipynb"),
        "is the notebook of 04_loss, not of 01_neuron",
    ),
}


def _move(src, dst):
    dst.parent.mkdir(parents=True, exist_ok=True)
    src.rename(dst)
    return None


@pytest.mark.parametrize("case", LAYOUTS)
def test_a_folder_that_is_not_a_class_gets_one_sentence_and_nothing_is_written(case, run, tmp_path):
    sub = _course(tmp_path)
    change, words = LAYOUTS[case]
    target = change(sub) or sub
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = run("grade-class", target, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no gradebook, no CSV


def test_bad_options_are_usage_errors(run, tmp_path):
    sub = _course(tmp_path)
    cases = [
        (("grade-class", tmp_path / "nowhere"), "is not a folder"),
        (("grade-class", sub, "--jobs", "0"), "--jobs"),
        (("grade-class", sub, "--scheduler", "bogus"), "not a Dask scheduler address"),
        (("grade-class", sub, "--scheduler", "local:0"), "not a Dask scheduler address"),
        (("grade-class", sub, "--assignment", "06_attention"), "invalid choice"),
        (("grade-class", sub, "--student", "nobody"), "no student folder 'nobody'"),
        (("grade-class", sub, "--timeout", "-1"), "--timeout"),
        (("grade-class", sub, "--memory", "lots"), "--memory"),
        (("grade-class", sub, "--out", tmp_path / "no" / "such" / "dir.csv"), "does not exist"),
        (("grade-class", sub, "--out", sub / "ada" / "grades.csv"), "inside"),
    ]
    for args, words in cases:
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode == 2 and words in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "gradebook.db").exists() and not (tmp_path / "class-grades.csv").exists()


def test_out_replaces_only_a_csv_it_wrote(run, tmp_path):
    sub = _course(tmp_path)
    notebook = write(solved("01_neuron"), tmp_path / "mine.ipynb")
    export = tmp_path / "grades.csv"
    export.write_text("assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score\n")
    for target in (notebook, export):
        before = target.read_bytes()
        proc = run("grade-class", sub, "--out", target, cwd=tmp_path)
        assert proc.returncode == 2 and "not a CSV written by grade-class" in proc.stderr, proc.stderr
        assert target.read_bytes() == before
    assert not (tmp_path / "gradebook.db").exists()
    first = run("grade-class", sub, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "class-grades.csv").read_text().startswith(COLUMNS)  # the default name
    second = run("grade-class", sub, "--force", cwd=tmp_path)
    assert second.returncode == 0 and "graded 1 submission(s)" in second.stdout, second.stderr
