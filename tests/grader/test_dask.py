"""``grade-class --scheduler``: the same grades on a Dask cluster (127.0.0.1 only), and a lost worker costs a retry."""

import os
import signal
import subprocess
import sys
import time

import pytest
from testkit.notebooks import make_class, solved, write

from nnbasics.assignments import ASSIGNMENTS

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


def test_dask_grades_equal_local_grades_byte_for_byte(tmp_path, run, cluster):
    sub = make_class(tmp_path)
    for a in ASSIGNMENTS[1:3]:
        write(solved(a), sub / "eve" / a / f"{a}.ipynb")
    local = run("grade-class", sub, "--jobs", "2", "--out", tmp_path / "local.csv", "--gradebook", tmp_path / "l.db")
    remote = run(
        "grade-class",
        sub,
        "--scheduler",
        cluster[0].scheduler_address,
        "--out",
        tmp_path / "dask.csv",
        "--gradebook",
        tmp_path / "d.db",
    )
    assert local.returncode == remote.returncode == 1, remote.stderr  # the class has a crash and a broken file
    assert (tmp_path / "local.csv").read_bytes() == (tmp_path / "dask.csv").read_bytes()


def test_a_worker_killed_mid_batch_costs_a_retry_not_the_batch(tmp_path, grader_env, cluster):
    _, client = cluster
    sub = tmp_path / "submitted"
    for s in range(4):
        for a in ASSIGNMENTS[:3]:
            write(solved(a), sub / f"s{s}" / a / f"{a}.ipynb")
    out = tmp_path / "grades.csv"
    cmd = [sys.executable, "-m", "nnbasics.cli", "grade-class", str(sub), "--scheduler", cluster[0].scheduler_address]
    proc = subprocess.Popen([*cmd, "--out", str(out)], env=grader_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 2):
        time.sleep(0.2)  # wait until the batch is under way (one result in)
    pids = client.run(os.getpid)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr.decode()
    lines = out.read_text().splitlines()
    assert lines[0] == "student,assignment,score,max_score,status"
    keys = [tuple(line.split(",")[:2]) for line in lines[1:]]
    assert len(keys) == len(set(keys)) == 12  # every submission graded, each once
    assert all(line.endswith(",graded") for line in lines[1:])
