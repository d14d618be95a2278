"""``nnbasics grade-class`` on a small generated class: CSV, gradebook, resume, broken submissions."""

import csv
import hashlib
import subprocess

from testkit.notebooks import make_class

from nnbasics.grading import results


def read(path):
    with open(path, newline="") as f:
        return {(r["student"], r["assignment"]): r for r in csv.DictReader(f)}


def test_class_grades_csv_gradebook_and_resume(tmp_path, run, grader_env):
    sub = make_class(tmp_path)
    proc = run("grade-class", sub, "--jobs", "2", "--out", tmp_path / "grades.csv", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # two submissions could not be graded
    assert "Traceback" not in proc.stderr
    rows = read(tmp_path / "grades.csv")
    assert set(rows) == {
        ("ada", "01_neuron"),
        ("ada", "04_loss"),
        ("ben", "01_neuron"),
        ("cy", "01_neuron"),
        ("dee", "01_neuron"),
    }
    assert (tmp_path / "grades.csv").read_text().splitlines()[0].split(",") == [
        "student",
        "assignment",
        "score",
        "max_score",
        "status",
    ]
    full = float(rows["ada", "01_neuron"]["max_score"])
    assert float(rows["ada", "01_neuron"]["score"]) == full > 0
    assert float(rows["ada", "04_loss"]["score"]) == float(rows["ada", "04_loss"]["max_score"]) > 0
    assert rows["ben", "01_neuron"]["status"] == "graded" and 0 < float(rows["ben", "01_neuron"]["score"]) < full
    assert rows["cy", "01_neuron"]["status"] == "crashed" and float(rows["cy", "01_neuron"]["score"]) == 0
    assert rows["dee", "01_neuron"]["status"] == "invalid"

    # the journal holds every submission as data: what the report is built from, without regrading
    journal = results.load(tmp_path)
    assert set(journal) == set(rows)
    for (student, assignment), rec in journal.items():
        path = sub / student / assignment / f"{assignment}.ipynb"
        assert rec["notebook_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert rec["entry"]["status"] == rows[student, assignment]["status"]
    assert "def relu" in journal["ben", "01_neuron"]["answers"]["relu"]
    assert journal["dee", "01_neuron"]["answers"] == {}  # not a notebook: no answers

    # stock nbgrader reads the gradebook grade-class wrote
    export = subprocess.run(
        ["nbgrader", "export", "--to", "export.csv"], cwd=tmp_path, env=grader_env, capture_output=True, text=True
    )
    assert export.returncode == 0, export.stderr
    lines = (tmp_path / "export.csv").read_text().splitlines()
    exported = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(lines)}
    for key, row in rows.items():
        assert float(exported[key]["score"]) == float(row["score"])

    # a second run grades nothing new; --force grades everything again
    again = run("grade-class", sub, "--jobs", "2", "--out", tmp_path / "grades.csv", cwd=tmp_path)
    assert "graded 0 submission(s)" in again.stdout
    assert read(tmp_path / "grades.csv") == rows
    forced = run("grade-class", sub, "--jobs", "2", "--force", "--out", tmp_path / "grades.csv", cwd=tmp_path)
    assert "graded 5 submission(s)" in forced.stdout
    assert read(tmp_path / "grades.csv") == rows


def test_usage_errors(run, tmp_path):
    proc = run("grade-class", tmp_path / "nowhere")
    assert proc.returncode == 2 and "is not a folder" in proc.stderr
    proc = run("grade-class", tmp_path, "--jobs", "0")
    assert proc.returncode == 2 and "--jobs" in proc.stderr
