"""Nothing lost, nothing stale: grade-class interrupted at random moments leaves results that agree.

A small class (4 students x 2 assignments, two notebooks resubmitted before
every run but the first, so that each run has work to do) is graded by 20
runs of ``nnbasics grade-class``, each sent SIGINT or SIGTERM (alternately) at
a random moment: of its first seconds (starting, planning, opening the
gradebook) for half of them, around its first saved result (grading, saving)
for the other half; then by one run left to
finish. After every run the journal, the CSV and the gradebook
agree and no process the run started is left; at the end ``nbgrader export``
agrees too, and every version (sha256) of every submission was graded exactly
once (journal lines per sha).
"""

import collections
import csv
import hashlib
import json
import random
import signal
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from nbgrader.api import Gradebook
from testkit import classroom
from testkit.notebooks import solved, write
from testkit.processes import finish

from nnbasics.grading import results

ASSIGNMENTS = ("01_neuron", "02_learning_rate")
RUNS = 20
pytestmark = pytest.mark.slow


def make_class(sub):
    for a in ASSIGNMENTS:
        write(solved(a), sub / "s0" / a / f"{a}.ipynb")
        write(classroom.wrong(a), sub / "s1" / a / f"{a}.ipynb")
        write(classroom.quiz_blank(a), sub / "s2" / a / f"{a}.ipynb")
    write(classroom.crashing(), sub / "s3" / "01_neuron" / "01_neuron.ipynb")
    write(solved("02_learning_rate"), sub / "s3" / "02_learning_rate" / "02_learning_rate.ipynb")


def resubmit(path, revision):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"revision {revision}"))
    write(nb, path)


def journal_lines(root):
    try:
        lines = results.journal_path(root).read_text().splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            pass
    return out


def wait_for_results(proc, root, lines, timeout=90):
    """Wait until the journal has ``lines`` lines (or the run ended); returns 0 (an extra delay to add to)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and len(journal_lines(root)) < lines and time.monotonic() < deadline:
        time.sleep(0.05)
    return 0.0


def assert_agreement(root):
    """The CSV, the gradebook and the journal hold the same result for every submission."""
    journal = results.load(root)
    if not (root / "class-grades.csv").exists():
        assert not journal
        return
    with open(root / "class-grades.csv", newline="") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f) if r["status"] != "missing"}
    assert set(rows) == set(journal)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for key, rec in journal.items():
            row, entry = rows[key], rec["entry"]
            assert (row["status"], row["notebook_sha256"]) == (entry["status"], rec["notebook_sha256"]), key
            nb = gb.find_submission_notebook(key[1], key[1], key[0])
            if entry["status"] == "graded":
                assert float(row["score"]) == nb.score == entry["score"], key
                assert not nb.needs_manual_grade
            else:
                assert row["score"] == "" and nb.needs_manual_grade, key


def test_twenty_interrupted_runs_then_a_resume_agree_and_grade_each_version_once(tmp_path, grader_env):
    root = tmp_path / "course"
    make_class(root / "submitted")
    rng = random.Random(11)  # the moments are random, and the same on every run of the test
    cmd = [sys.executable, "-m", "nnbasics.cli", "grade-class", "submitted", "--jobs", "2"]
    figures = collections.Counter()
    started = time.monotonic()
    for i in range(RUNS):
        if i:  # two learners hand in again: the new versions must be graded, once (and each run has work to do)
            for student, assignment in ((i % 3, ASSIGNMENTS[i % 2]), ((i + 1) % 3, ASSIGNMENTS[(i + 1) % 2])):
                resubmit(root / "submitted" / f"s{student}" / assignment / f"{assignment}.ipynb", i)
        before = len(journal_lines(root))
        proc = subprocess.Popen(cmd, cwd=root, env=grader_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if i % 4 < 2:  # at a random moment of its first seconds: starting, planning, opening the gradebook
            moment = rng.uniform(0.5, 2.5)
        else:  # at a random moment around its first saved result, while another notebook is graded
            moment = wait_for_results(proc, root, before + 1) + rng.uniform(0.0, 0.5)
        try:
            proc.wait(timeout=moment)
        except subprocess.TimeoutExpired:
            pass
        ours = [] if proc.poll() is not None else psutil.Process(proc.pid).children(recursive=True)
        signum = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
        if proc.poll() is None:
            proc.send_signal(signum)
        out, err = finish(proc, 120)
        if proc.returncode == -signum:  # Python itself was starting, or ending after the command had finished
            finished = b"graded " in out and b"row(s) in class-grades.csv" in out
            assert finished or (not ours and len(journal_lines(root)) == before), err.decode()[-2000:]
            assert_agreement(root)
            figures["killed while Python started or exited"] += 1
            continue
        assert proc.returncode in (0, 1, 128 + signum), (proc.returncode, err.decode()[-2000:])
        assert b"Traceback" not in err, err.decode()[-3000:]
        _, alive = psutil.wait_procs(ours, timeout=10)
        assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], "a worker outlived its run"
        assert_agreement(root)
        figures["interrupted" if proc.returncode == 128 + signum else "finished"] += 1
        figures["graded while interrupted"] += len(journal_lines(root)) - before if proc.returncode > 1 else 0
        figures["workers stopped"] += len(ours)
    final = subprocess.run(cmd, cwd=root, env=grader_env, capture_output=True, text=True, timeout=600)
    assert final.returncode == 1, final.stderr  # s3's kernel dies: crashed, and named
    assert "s3/01_neuron (crashed)" in final.stdout.splitlines()[-1]
    assert_agreement(root)

    records = journal_lines(root)
    versions = collections.Counter((r["student_id"], r["assignment"], r["notebook_sha256"]) for r in records)
    assert set(versions.values()) == {1}, [v for v, n in versions.items() if n > 1]
    latest = results.load(root)
    for path in (root / "submitted").glob("*/*/*.ipynb"):
        key = (path.parts[-3], path.parts[-2])
        assert latest[key]["notebook_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest(), (
            key
        )  # the version on disk is the one graded

    export = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "export.csv"],
        cwd=root,
        env=grader_env,
        capture_output=True,
        text=True,
    )
    assert export.returncode == 0, export.stderr
    with open(root / "export.csv", newline="") as f:
        exported = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(f)}
    for key, rec in latest.items():
        assert exported[key] == (rec["entry"]["score"] if rec["entry"]["status"] == "graded" else 0.0), key
    print(
        f"interrupt figures: {RUNS} runs ({figures['interrupted']} stopped by a signal, {figures['finished']} finished"
        f" first, {figures['killed while Python started or exited']} killed while Python started or exited), "
        f"{figures['graded while interrupted']} results saved by interrupted runs, "
        f"{figures['workers stopped']} processes stopped with them, {len(records)} journal lines for "
        f"{len(versions)} versions of {len(latest)} submissions, {time.monotonic() - started:.0f} s"
    )
    assert figures["interrupted"] >= RUNS // 2  # most signals hit a run at work
