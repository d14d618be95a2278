"""Crashed means crashed, and only the guilty cell pays (issues 11 and 13), through the real ``nnbasics grade``.

A solved 01_neuron whose ``relu`` cell (or relu itself, when called) loops,
runs out of memory, floods the output or kills the kernel loses relu's test
only, with a sentence naming the cause; every other test keeps its points,
as stock nbgrader's partial credit would give. Only a notebook whose kernel
dies again after the restart, or that runs out of notebook time, is
``crashed``, and then the reason names the cell. A SyntaxError is reported
as one, and costs only the function of its cell.
"""

import re

import nbformat
import pytest
from testkit.notebooks import cell_index, solved, write

A = "01_neuron"
ARGS = ["--timeout", "3", "--notebook-timeout", "120", "--memory", "1024", "--max-output", "64"]


def answer(gid):
    nb = solved(A)
    return nb.cells[cell_index(nb, gid)].source


RELU = answer("relu")

GUILTY = {  # file: (relu's cell, what relu's test must say)
    "loops when called.ipynb": ("def relu(z):\n    while True:\n        pass\n", "this test timed out after 3 s"),
    "loops in its cell.ipynb": (f"{RELU}\nwhile True:\n    pass\n", "timed out after 3 s"),
    "ignores interrupts.ipynb": (
        f"{RELU}\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n",
        "timed out after 3 s (the per-cell time limit) and did not stop when interrupted",
    ),
    "memory.ipynb": (f"{RELU}\nbig = np.ones((1024, 1024, 160))\n", "ran out of memory"),
    "chatty.ipynb": (f"{RELU}\nfor i in range(200000):\n    print('spam ' * 20)\n", "more than 64 KiB of output"),
    "exits.ipynb": (f"{RELU}\nimport os\nos._exit(3)\n", "made the kernel die"),
    "segfaults.ipynb": (f"{RELU}\nimport ctypes\nctypes.string_at(0)\n", "made the kernel die"),
}


@pytest.fixture(scope="module")
def guilty(tmp_path_factory, grade_json):
    folder = tmp_path_factory.mktemp("guilty")
    paths = [write(solved(A, {"relu": source}), folder / name) for name, (source, _) in GUILTY.items()]
    status, out, err = grade_json(*ARGS, *paths)
    assert status == 0, err  # every notebook graded
    return {nb["path"].rsplit("/", 1)[-1]: nb for nb in out["notebooks"]}


@pytest.mark.parametrize("name", GUILTY)
def test_a_cell_that_hits_a_limit_costs_only_its_own_test(guilty, name):
    nb = guilty[name]
    assert nb["status"] == "graded" and nb["error"] is None, nb
    tests = {t["grade_id"]: t for t in nb["tests"]}
    assert GUILTY[name][1] in tests["test_relu"]["feedback"], tests["test_relu"]
    assert tests["test_relu"]["score"] == 0
    assert [gid for gid, t in tests.items() if not t["passed"]] == ["test_relu"]
    assert nb["score"] == nb["max_score"] - tests["test_relu"]["max_score"] > 0  # 12 / 14: partial credit


def test_a_looping_cell_among_four_correct_functions_loses_its_own_points(guilty):
    nb = guilty["loops in its cell.ipynb"]
    assert (nb["score"], nb["max_score"]) == (12.0, 14.0)  # 5 functions x 2 points + 4 quizzes x 1 point
    relu = {t["grade_id"]: t for t in nb["tests"]}["test_relu"]
    assert relu["feedback"] == (
        "its cell, cell 11 (relu), timed out after 3 s (the per-cell time limit) and was interrupted."
    )


def test_a_kernel_that_dies_again_after_the_restart_is_crashed_naming_the_cell(tmp_path, grade_json):
    nb = solved(A, {"relu": f"{RELU}\nimport os\nos._exit(3)\n"})
    nb.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(4)"))  # a second killer, at the end
    paths = [write(nb, tmp_path / "twice.ipynb"), write(solved(A), tmp_path / "ok.ipynb")]
    status, out, err = grade_json(*ARGS, *paths)
    assert status == 1, err
    twice, ok = out["notebooks"]
    assert twice["status"] == "crashed"
    assert twice["error"] == (
        f"the kernel died again after a restart: cell {len(nb.cells)} (`import os`) made the kernel die "
        "(it exited, crashed or ran out of memory)"
    )
    assert_crash_is_no_honest_zero(twice)
    assert ok["score"] == ok["max_score"]  # a crash beside it costs nothing


def test_running_out_of_notebook_time_is_crashed_naming_the_cell(tmp_path, grade_json):
    slow = solved(A)
    at = cell_index(slow, "checks") + 1
    slow.cells[at:at] = [nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)") for _ in range(8)]
    status, out, err = grade_json("--timeout", "3", "--notebook-timeout", "8", write(slow, tmp_path / "slow.ipynb"))
    assert status == 1, err
    (nb,) = out["notebooks"]
    assert nb["status"] == "crashed"
    # which cell was under way depends on the machine's speed; that one is named does not
    assert re.fullmatch(
        r"the notebook took longer than its 8 s time limit \(cell \d+ \(.+\) was (running|about to run)\)", nb["error"]
    )
    assert_crash_is_no_honest_zero(nb)


def assert_crash_is_no_honest_zero(nb):
    """Every test says why, out of the notebook's full score."""
    assert nb["assignment"] == A and nb["max_score"] == 14.0 and nb["score"] == 0
    assert all(t["feedback"] == f"not graded: {nb['error']}" and t["max_score"] > 0 for t in nb["tests"])


def test_a_syntax_error_is_named_and_costs_only_its_own_function(tmp_path, grade_json):
    broken = answer("sigmoid").replace("def sigmoid(z):", "def sigmoid(z)", 1)
    raising = "raise RuntimeError('not yet')\n" + answer("relu")
    path = write(solved(A, {"sigmoid": broken, "relu": raising}), tmp_path / "typo.ipynb")
    status, out, err = grade_json(path)
    assert status == 0, err
    tests = {t["grade_id"]: t for t in out["notebooks"][0]["tests"]}
    assert tests["test_sigmoid"]["feedback"] == (
        "sigmoid is not defined: its cell, cell 8 (sigmoid), has a SyntaxError at line 1: expected ':'."
    )
    assert tests["test_relu"]["feedback"] == (
        "relu is not defined: its cell, cell 11 (relu), raised RuntimeError: not yet."
    )
    assert "did you run the cell" not in tests["test_sigmoid"]["feedback"]
    # neuron_forward is checked through stand-ins, not through the broken sigmoid: it keeps its points
    assert [gid for gid, t in tests.items() if not t["passed"]] == ["test_sigmoid", "test_relu"]


def test_a_function_whose_cell_ran_fine_is_still_just_not_defined(tmp_path, grade_json):
    renamed = answer("relu").replace("def relu(", "def my_relu(", 1)
    path = write(solved(A, {"relu": renamed}), tmp_path / "renamed.ipynb")
    status, out, _ = grade_json(path)
    assert status == 0
    relu = {t["grade_id"]: t for t in out["notebooks"][0]["tests"]}["test_relu"]
    assert "name 'relu' is not defined" in relu["feedback"] and "its cell" not in relu["feedback"]
