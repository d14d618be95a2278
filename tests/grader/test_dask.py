"""``grade-class --scheduler``: the grades of local grading on a Dask cluster (127.0.0.1 only), a lost worker
costs a retry, and a worker holding other hidden tests refuses its tasks instead of grading with them."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import nbformat
import pytest
from testkit.notebooks import REPO, make_class, solved, write

from nnbasics._env import with_scripts_on_path
from nnbasics.assignments import ASSIGNMENTS
from nnbasics.grading import results

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        ) as c,
        Client(c) as client,
    ):
        yield c, client


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_dask_grades_equal_local_grades(tmp_path, run, cluster):
    sub = make_class(tmp_path / "local")
    for a in ASSIGNMENTS[1:3]:
        write(solved(a), sub / "eve" / a / f"{a}.ipynb")
    shutil.copytree(sub, tmp_path / "dask" / "submitted")  # the same bytes, graded in two course roots
    local = run("grade-class", "submitted", "--jobs", "2", cwd=tmp_path / "local")
    remote = run("grade-class", "submitted", "--scheduler", cluster[0].scheduler_address, cwd=tmp_path / "dask")
    assert local.returncode == remote.returncode == 1, remote.stderr  # the class has a crash and a broken file
    here, there = rows(tmp_path / "local" / "class-grades.csv"), rows(tmp_path / "dask" / "class-grades.csv")
    for row in here + there:
        row.pop("graded_at")  # when, not what
    assert here == there and len(here) == 5 * 4  # five students x the four assignments handed in


def test_a_worker_killed_mid_batch_costs_a_retry_not_the_batch(tmp_path, grader_env, cluster):
    _, client = cluster
    sub = tmp_path / "submitted"
    for s in range(4):
        for a in ASSIGNMENTS[:3]:
            write(solved(a), sub / f"s{s}" / a / f"{a}.ipynb")
    cmd = [sys.executable, "-m", "nnbasics.cli", "grade-class", str(sub), "--scheduler", cluster[0].scheduler_address]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=grader_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not results.load(tmp_path):
        time.sleep(0.2)  # wait until the batch is under way (one result in)
    pids = client.run(os.getpid)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stdout.decode() + stderr.decode()
    graded = rows(tmp_path / "class-grades.csv")
    keys = [(r["student_id"], r["assignment"]) for r in graded]
    assert len(keys) == len(set(keys)) == 12  # every submission graded, each once
    assert all(r["status"] == "graded" for r in graded)
    assert len((tmp_path / ".nnbasics" / "results.jsonl").read_text().splitlines()) == 12


def other_hidden_tests(folder):
    """A copy of solutions/ with one hidden case of 01_neuron's test_sigmoid removed."""
    for a in ASSIGNMENTS:
        write(nbformat.read(REPO / "solutions" / a / f"{a}.ipynb", as_version=4), folder / a / f"{a}.ipynb")
    path = folder / "01_neuron" / "01_neuron.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_sigmoid")
    line = next(ln for ln in cell.source.splitlines() if "args=(1000.0,)" in ln)
    cell.source = cell.source.replace(line + "\n", "")
    write(nb, path)
    return folder


def test_a_worker_with_other_hidden_tests_refuses(tmp_path, run):
    scheduler_file = tmp_path / "scheduler.json"
    env = with_scripts_on_path()
    options = ["--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0"]
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", *options, "--scheduler-file", str(scheduler_file)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker_env = env | {"NNBASICS_SOURCE_DIR": str(other_hidden_tests(tmp_path / "their-solutions"))}
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-dashboard"],
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for a in ("01_neuron", "04_loss"):
            write(solved(a), tmp_path / "course" / "submitted" / "ada" / a / f"{a}.ipynb")
        from distributed import Client

        with Client(address) as client:
            client.wait_for_workers(1, timeout=60)
        proc = run("grade-class", "submitted", "--scheduler", address, cwd=tmp_path / "course")
    finally:
        for p in (worker, scheduler):
            if p is not None:
                p.terminate()
                p.wait(timeout=30)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "refused it: its grading material differs from this course's (the hidden tests of 01_neuron)" in proc.stderr
    assert "ada/01_neuron (refused), ada/04_loss (refused)" in proc.stdout.splitlines()[-1]
    assert results.load(tmp_path / "course") == {}  # reported, not graded: the next run grades them
    assert rows(tmp_path / "course" / "class-grades.csv") == []
