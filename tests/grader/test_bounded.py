"""A grader whose own memory and time are bounded (issue 12), measured on the real ``nnbasics grade``.

Hostile notebooks make the kernel send what the grader could hoard: one
500 MB message, huge display updates, a comm flood, a stream flood, forged
probe records, a 30 MB quiz answer; others are hostile files: a sparse file
of gigabytes, 60 MB of tiny JSON objects, 500k empty cells, a valid notebook
carrying 60 MB of metadata. While the real
command grades them beside a correct notebook, the test samples the peak
resident memory of every grader process (psutil over the process tree; on
Linux the kernel's own high-water mark, VmHWM, so no spike is missed
between samples) and compares it with the same command grading correct
notebooks only. The bound is derived from the grader's limits
(``limits.py``); each hostile notebook costs only its own guilty test, and
the correct notebook beside them is graded in full.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from testkit.notebooks import cell_index, solved, write

from nnbasics.grading import limits

A = "01_neuron"
MIME = "application/vnd.nnbasics.probe+json"

# What the grader may hold beyond a correct notebook's grading, by its limits: zmq's queue of messages
# not yet read, one message being read (its frames, its decoded JSON, the text measured for the cap),
# the test results kept, and the output kept (as messages and as the notebook's outputs).
BOUND = (
    limits.zmq_bound()
    + 3 * limits.MAX_MESSAGE_BYTES
    + limits.MAX_RECORDS_BYTES
    + 3 * limits.Limits().max_output_kb * 1024
) + (16 << 20)  # allocator slack
assert BOUND < 400 << 20


def relu_then(code):
    nb = solved(A)
    return solved(A, {"relu": f"{nb.cells[cell_index(nb, 'relu')].source}\n{code}\n"})


ATTACKS = {  # notebook: (notebook, the test it must cost, words of its feedback)
    "message_500mb": (
        relu_then(
            "k = get_ipython().kernel\n"
            "k.session.send(k.iopub_socket, 'display_data', {'data': {'text/plain': 'x'}, 'metadata': {}},"
            " parent=k.get_parent(), buffers=[bytearray(500 << 20)])"
        ),
        "test_relu",
        "sent a message larger than the 17 MiB the grader accepts",
    ),
    # zmq keeps every part of a message until its last one, however many: 100 parts of 16 MiB (one buffer, sent
    # again and again) would be 1.6 GiB held by the grader, each part under the 17 MiB zmq lets through
    "message_of_many_parts": (
        relu_then(
            "k = get_ipython().kernel\n"
            "part = memoryview(bytearray(16 << 20))\n"
            "k.session.send(k.iopub_socket, 'display_data', {'data': {'text/plain': 'x'}, 'metadata': {}},"
            " parent=k.get_parent(), buffers=[part] * 100)"
        ),
        "test_relu",
        "sent a message in so many parts",
    ),
    "display_updates": (
        relu_then(
            "from IPython.display import display, update_display\n"
            "display({'text/plain': ''}, raw=True, display_id='d')\n"
            "for i in range(100):\n    update_display({'text/plain': 'y' * (8 << 20)}, raw=True, display_id='d')"
        ),
        "test_relu",
        "printed more than 1024 KiB of output",
    ),
    "comm_flood": (
        relu_then(
            "from comm import create_comm\nc = create_comm(target_name='flood')\n"
            "for i in range(100):\n    c.send({'state': {'v': 'x' * (8 << 20)}})\n"
            "for i in range(100000):\n    c.send({'state': {'v': i}})"
        ),
        "test_relu",
        "printed more than 1024 KiB of output",
    ),
    "stream_flood": (
        relu_then("for i in range(100):\n    print('x' * (8 << 20))"),
        "test_relu",
        "so the kernel was restarted",
    ),
    "forged_records": (
        solved(
            A,
            {
                "relu": "def relu(z):\n    from IPython.display import display\n"
                f"    display({{'{MIME}': {{'nonce': 'forged', 'pad': 'x' * (15 << 20)}}}}, raw=True)\n"
                f"    display({{'{MIME}': {{'nonce': 'forged', 'pad': 'x' * (15 << 20)}}}}, raw=True)\n"
                "    return np.maximum(z, 0)\n"
            },
        ),
        "test_relu",
        "",
    ),
    "quiz_30mb": (solved(A, {"quiz_1": "answer = 'b' * (30 << 20)\n"}), "test_quiz_1", "the result is too large"),
}


def grader_processes(root):
    """The grading processes of a command: itself and its forked workers (not the kernels, nor their boxes)."""
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    return [p for p in procs if _is_grader(p)]


def _is_grader(p):
    try:
        return "nnbasics.cli" in " ".join(p.cmdline())
    except psutil.Error:
        return False


def _high_water(p):
    """The process's peak resident memory so far (VmHWM on Linux), else its current one."""
    try:
        for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) << 10
    except OSError:
        pass
    try:
        return p.memory_info().rss
    except psutil.Error:
        return 0


def peak_rss(run_args, env, timeout=900):
    """Run ``nnbasics grade --json ARGS``; returns (peak RSS of any grader process, parsed JSON, stderr)."""
    cmd = [sys.executable, "-m", "nnbasics.cli", "grade", "--json", *map(str, run_args)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    root, peaks = psutil.Process(proc.pid), {}
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for p in grader_processes(root):
            peaks[p.pid] = max(peaks.get(p.pid, 0), _high_water(p))
        time.sleep(0.005)
    out, err = proc.communicate(timeout=60)
    return max(peaks.values(), default=0), json.loads(out), err.decode()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, grader_env):
    """The peak of the same command on as many correct notebooks."""
    folder = tmp_path_factory.mktemp("correct")
    paths = [write(solved(A), folder / f"{name}.ipynb") for name in [*ATTACKS, "good"]]
    return peak_rss(paths, grader_env)[0]


@pytest.mark.slow
def test_hostile_kernels_cannot_grow_the_graders_memory(tmp_path, grader_env, baseline):
    paths = [write(nb, tmp_path / f"{name}.ipynb") for name, (nb, _, _) in ATTACKS.items()]
    good = write(solved(A), tmp_path / "good.ipynb")
    peak, out, err = peak_rss([*paths, good], grader_env)
    print(f"peak RSS of a grader process: {peak >> 20} MiB; correct notebooks only: {baseline >> 20} MiB")
    assert peak - baseline < BOUND, f"{(peak - baseline) >> 20} MiB above the baseline, bound {BOUND >> 20} MiB"
    got = {Path(nb["path"]).stem: nb for nb in out["notebooks"]}
    assert got["good"]["status"] == "graded" and got["good"]["score"] == got["good"]["max_score"], err
    for name, (_, test, words) in ATTACKS.items():
        nb = got[name]
        assert nb["status"] == "graded", nb
        failed = {t["grade_id"]: t["feedback"] for t in nb["tests"] if not t["passed"]}
        assert list(failed) == [test] and words in failed[test], (name, failed)
    assert len(json.dumps(out)) < 100_000  # nothing large is echoed back


@pytest.mark.slow
def test_hostile_files_are_refused_at_once_and_the_others_graded(tmp_path, grader_env, baseline):
    sparse = tmp_path / "sparse.ipynb"
    with open(sparse, "wb") as f:
        f.truncate(3 << 30)  # 3 GiB, on disk as nothing
    tiny = tmp_path / "tiny objects.ipynb"
    tiny.write_text(
        '{"nbformat": 4, "nbformat_minor": 4, "metadata": {"x": [' + ",".join(["{}"] * (20 << 20)) + ']}, "cells": []}'
    )
    padded = json.loads(nbformat.writes(solved(A)))
    padded["nbformat_minor"] = 4
    for cell in padded["cells"]:
        cell.pop("id", None)
    empty = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": []}
    padded["cells"][3:3] = [empty] * 500_000
    many = tmp_path / "500k empty cells.ipynb"
    many.write_text(json.dumps(padded, separators=(",", ":")))
    bulky = json.loads(nbformat.writes(solved(A)))
    bulky["metadata"]["blob"] = "x" * (60 << 20)  # a valid notebook of 60 MB: graded, held a bounded few times
    blob = tmp_path / "60 MB of metadata.ipynb"
    blob.write_text(json.dumps(bulky))
    good = write(solved(A), tmp_path / "good.ipynb")
    started = time.monotonic()
    peak, out, _ = peak_rss(["--notebook-timeout", "10", sparse, tiny, many, blob, good], grader_env)
    took = time.monotonic() - started
    print(f"hostile files: {took:.1f} s, peak RSS {peak >> 20} MiB (correct notebooks only: {baseline >> 20} MiB)")
    got = {Path(nb["path"]).name: nb for nb in out["notebooks"]}
    assert "larger than the 64 MiB" in got["sparse.ipynb"]["error"]
    assert "more data than an exercise notebook may" in got["tiny objects.ipynb"]["error"]
    assert "has 500049 cells, more than the 5000" in got["500k empty cells.ipynb"]["error"]
    for name in ("good.ipynb", "60 MB of metadata.ipynb"):
        assert got[name]["status"] == "graded" and got[name]["score"] == got[name]["max_score"] > 0, got[name]
    # the command holds each file it was given once (a forked worker sees them all), and a worker parsing
    # one holds it twice more while it parses (its text, its objects); the sparse file is never read
    held = sum(p.stat().st_size for p in (tiny, many, blob, good))
    bound = held + 2 * blob.stat().st_size + (32 << 20)
    print(f"above the baseline: {(peak - baseline) >> 20} MiB, bound {bound >> 20} MiB")
    assert peak - baseline < min(bound, 400 << 20)
    assert took < 10 + 120  # the notebook limit, with room for a loaded machine: not minutes past it


@pytest.mark.slow
def test_the_notebook_time_limit_holds_for_a_notebook_of_many_cells(tmp_path, grader_env):
    nb = solved(A)
    at = cell_index(nb, "checks") + 1
    # just under the cell cap; ids of our own: 4,900 random 8-digit ones collide once in ~350 runs (CI saw it)
    nb.cells[at:at] = [nbformat.v4.new_code_cell("x = 1", id=f"filler-{k}") for k in range(4900)]
    started = time.monotonic()
    _, out, _ = peak_rss(["--notebook-timeout", "5", write(nb, tmp_path / "many cells.ipynb")], grader_env)
    took = time.monotonic() - started
    print(f"4900 cells under a 5 s notebook limit: {took:.1f} s")
    (entry,) = out["notebooks"]
    assert entry["status"] == "crashed" and "longer than its 5 s time limit" in entry["error"], entry
    assert took < 5 + 120
