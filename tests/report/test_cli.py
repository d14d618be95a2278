"""``nnbasics report``: rebuilt from the journal without regrading, the same after interrupted runs, clear usage errors."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from testkit.notebooks import solved, write
from testkit.report_class import build_class

from nnbasics.grading import results


def copy_class(graded_class, dest):
    """The graded class (submissions and journal, nothing else) copied to ``dest``; its submitted/ folder."""
    shutil.copytree(graded_class["submitted"], dest / "submitted")
    shutil.copytree(graded_class["root"] / ".nnbasics", dest / ".nnbasics")
    return dest / "submitted"


def test_report_rebuilds_the_same_files_without_grading(graded_class, nnb, tmp_path):
    sub = copy_class(graded_class, tmp_path)
    proc = nnb("report", sub, "--report", tmp_path / "again")
    assert proc.returncode == 0, proc.stderr
    assert "report of 10 submission(s) by 10 student(s)" in proc.stdout
    for name in ("report.json", "tests.csv", "submissions.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (graded_class["report"] / name).read_bytes(), name
    assert not (tmp_path / "gradebook.db").exists() and not (tmp_path / "autograded").exists()  # nothing graded


def test_missing_and_pending_submissions(graded_class, nnb, tmp_path):
    sub = copy_class(graded_class, tmp_path)
    (sub / "kim").mkdir()  # a student who handed nothing in
    write(solved("01_neuron"), sub / "lee" / "01_neuron" / "01_neuron.ipynb")  # handed in after grading
    with open(results.journal_path(tmp_path), "a", encoding="utf-8") as f:
        f.write('{"student_id": "cut short by an interru')  # an interrupted write is skipped
    proc = nnb("report", sub, "--report", tmp_path / "r")
    assert proc.returncode == 0, proc.stderr
    assert "1 submission(s) new or changed since grading" in proc.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    entry = report["assignments"]["01_neuron"]
    assert entry["status"] == {"graded": 8, "crashed": 1, "invalid": 1, "missing": 1}
    assert entry["submissions"] == 10
    assert (
        entry["tests"]
        == json.loads((graded_class["report"] / "report.json").read_text())["assignments"]["01_neuron"]["tests"]
    )
    lines = (tmp_path / "r" / "submissions.csv").read_text().splitlines()
    assert "kim,01_neuron,missing,,14,no notebook in submitted/kim/01_neuron/,," in lines
    assert not any(line.startswith("lee,") for line in lines)
    page = (tmp_path / "r" / "index.html").read_text()
    assert "lee (01_neuron)" in page and "Run grade-class again" in page


@pytest.mark.parametrize("case", ["no folder", "not a class", "no journal", "empty journal"])
def test_usage_errors_write_nothing(nnb, tmp_path, case, graded_class):
    out = tmp_path / "r"
    if case == "no folder":
        target, why = tmp_path / "nowhere", "is not a folder"
    elif case == "not a class":
        target, why = tmp_path / "notes", "is not a class"
        (target / "some-folder").mkdir(parents=True)
        (target / "readme.txt").write_text("hello")
    else:
        target = shutil.copytree(graded_class["submitted"], tmp_path / "course" / "submitted")
        why = "grade-class first"
        if case == "empty journal":
            results.journal_path(tmp_path / "course").parent.mkdir()
            results.journal_path(tmp_path / "course").write_text("")
    proc = nnb("report", target, "--report", out)
    assert proc.returncode == 2 and why in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_destinations(graded_class, nnb, tmp_path):
    sub = copy_class(graded_class, tmp_path)
    (tmp_path / "file").write_text("keep me")
    for dest, why in ((tmp_path / "file", "is not a folder"), (sub / "report", "inside")):
        proc = nnb("report", sub, "--report", dest)
        assert proc.returncode == 2 and why in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert (tmp_path / "file").read_text() == "keep me" and not (sub / "report").exists()
    proc = nnb("report", sub)
    assert proc.returncode == 2 and "--report" in proc.stderr
    # grade-class refuses before grading anything
    proc = nnb("grade-class", sub, "--out", tmp_path / "g.csv", "--report", tmp_path / "file")
    assert proc.returncode == 2 and "is not a folder" in proc.stderr
    assert not (tmp_path / "g.csv").exists() and not (tmp_path / "gradebook.db").exists()


@pytest.mark.slow
def test_two_interrupted_runs_give_the_same_report_as_one(graded_class, nnb, env, tmp_path):
    sub = build_class(tmp_path)
    journal = results.journal_path(tmp_path)
    cmd = [sys.executable, "-m", "nnbasics.cli", "grade-class", sub, "--jobs", "1", "--out", tmp_path / "g.csv"]
    # Ctrl-C as a terminal sends it: SIGINT to the whole process group, once a few submissions are stored
    first = subprocess.Popen(cmd, env=env, cwd=tmp_path, start_new_session=True, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None:
        if journal.exists() and len(journal.read_text().splitlines()) >= 3:
            break
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGINT)
    _, err = first.communicate(timeout=120)
    assert first.returncode == 130, err[-2000:]
    stored = len(results.load(tmp_path))
    assert 3 <= stored < 10, f"the interrupt came after {stored} of 10 submissions"

    second = nnb("grade-class", sub, "--jobs", "2", "--out", tmp_path / "g.csv")
    assert second.returncode == 1, second.stderr[-2000:]
    proc = nnb("report", sub, "--report", tmp_path / "r")
    assert proc.returncode == 0, proc.stderr
    for name in ("report.json", "tests.csv"):
        assert (tmp_path / "r" / name).read_text() == (graded_class["report"] / name).read_text(), name


def test_the_benchmark_class_differs_from_student_to_student(tmp_path):
    """``nnbasics bench report`` grades this class: 5 notebooks each, every answer cell its student's own."""
    import nbformat

    from nnbasics.assignments import ASSIGNMENTS
    from nnbasics.bench import report as bench_report
    from nnbasics.grading import course

    sub = bench_report.make_class(tmp_path, students=2)
    for assignment in ASSIGNMENTS:
        first, second = (sub / s / assignment / f"{assignment}.ipynb" for s in ("student000", "student001"))
        assert course.identify(nbformat.read(first, as_version=4)) == assignment
        a, b = (results.answers_of(p.read_bytes()) for p in (first, second))
        assert a.keys() == b.keys() and all(a[k] != b[k] for k in a)
