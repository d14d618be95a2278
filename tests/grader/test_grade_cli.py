"""``nnbasics grade`` end to end, through the real command: scores, bad input, limits, JSON, exit codes."""

import contextlib
import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
import psutil
import pytest
from testkit.notebooks import REPO, cell_index, digest, meta, released, solved, write
from testkit.processes import finish

from nnbasics.assignments import ASSIGNMENTS

TEST_KEYS = {"grade_id": str, "score": float, "max_score": float, "passed": bool, "feedback": (str, type(None))}
NOTEBOOK_KEYS = {
    "path": str,
    "assignment": (str, type(None)),
    "status": str,
    "error": (str, type(None)),
    "score": float,
    "max_score": float,
    "tests": list,
}


def check_schema(out):
    """The JSON object of CONTRIBUTING.md, exactly: keys and types at every level."""
    assert set(out) == {"score", "max_score", "notebooks"}
    assert isinstance(out["score"], float) and isinstance(out["max_score"], float)
    for nb in out["notebooks"]:
        assert set(nb) == set(NOTEBOOK_KEYS)
        for key, kind in NOTEBOOK_KEYS.items():
            assert isinstance(nb[key], kind), (key, nb[key])
        assert nb["status"] in ("graded", "invalid", "crashed")
        assert (nb["error"] is None) == (nb["status"] == "graded")
        for t in nb["tests"]:
            assert set(t) == set(TEST_KEYS)
            for key, kind in TEST_KEYS.items():
                assert isinstance(t[key], kind), (key, t[key])
            assert t["passed"] == (t["score"] == t["max_score"])
        assert nb["score"] == sum(t["score"] for t in nb["tests"])
    assert out["score"] == sum(nb["score"] for nb in out["notebooks"])


def by_name(out):
    return {os.path.basename(nb["path"]): nb for nb in out["notebooks"]}


@pytest.fixture(scope="module")
def solved_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("solved")
    for a in ASSIGNMENTS:
        write(solved(a), folder / f"{a}.ipynb")
    return folder


def test_solutions_get_full_marks_and_files_stay_unchanged(solved_dir, grade_json):
    before = {p.name: digest(p) for p in solved_dir.iterdir()}
    status, out, err = grade_json(*sorted(solved_dir.iterdir()))
    assert status == 0, err
    check_schema(out)
    for nb in out["notebooks"]:
        assert nb["status"] == "graded", nb
        assert nb["score"] == nb["max_score"] > 0, [t for t in nb["tests"] if not t["passed"]]
        assert nb["assignment"] == os.path.basename(nb["path"])[:-6]
    assert {p.name: digest(p) for p in solved_dir.iterdir()} == before
    assert sorted(p.name for p in solved_dir.iterdir()) == sorted(before)  # nothing written beside them


def test_released_exercises_score_zero_without_crashing(grade_json):
    paths = [REPO / "exercises" / a / f"{a}.ipynb" for a in ASSIGNMENTS]
    before = [digest(p) for p in paths]
    status, out, _ = grade_json(*paths)
    assert status == 0
    check_schema(out)
    for nb in out["notebooks"]:
        assert nb["status"] == "graded" and nb["score"] == 0 and nb["max_score"] > 0
        assert all(t["feedback"] for t in nb["tests"])  # every failure says why
    assert [digest(p) for p in paths] == before


def _v3(tmp):
    return nbformat.writes(nbformat.convert(solved("01_neuron"), 3)).encode()


BAD_INPUTS = {
    "empty.ipynb": (lambda tmp: b"", "is empty"),
    "blank.ipynb": (lambda tmp: b"  \n", "is empty"),
    "binary.ipynb": (lambda tmp: bytes(range(256)), "not a text file"),
    "broken.ipynb": (lambda tmp: b'{"cells": [', "not valid JSON"),
    "list.ipynb": (lambda tmp: b"[1, 2, 3]", "not a Jupyter notebook"),
    "object.ipynb": (lambda tmp: b'{"hello": "world"}', "not a Jupyter notebook"),
    "ancient.ipynb": (
        lambda tmp: json.dumps({"nbformat": 2, "nbformat_minor": 0, "worksheets": [], "metadata": {}}).encode(),
        "format v2",
    ),
    "no cells.ipynb": (lambda tmp: b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid notebook"),
    "other course.ipynb": (
        lambda tmp: nbformat.writes(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def fibonacci(n):\n    return n")])
        ).encode(),
        "not one of this course's exercises",
    ),
}


def test_bad_input_is_named_in_one_sentence_and_left_unchanged(tmp_path, grade_json):
    paths = []
    for name, (make, _) in BAD_INPUTS.items():
        (tmp_path / name).write_bytes(make(tmp_path))
        paths.append(tmp_path / name)
    (tmp_path / "dangling.ipynb").symlink_to(tmp_path / "gone.ipynb")
    empty_dir = tmp_path / "empty folder"
    empty_dir.mkdir()
    before = {p.name: p.read_bytes() for p in paths}
    status, out, err = grade_json(*paths, tmp_path / "dangling.ipynb", empty_dir, tmp_path / "missing.ipynb")
    assert status == 1
    assert "Traceback" not in err
    check_schema(out)
    got = by_name(out)
    for name, (_, expected) in BAD_INPUTS.items():
        assert got[name]["status"] == "invalid", got[name]
        assert expected in got[name]["error"]
        assert got[name]["error"].count("\n") == 0
    assert "does not exist" in got["dangling.ipynb"]["error"]
    assert "does not exist" in got["missing.ipynb"]["error"]
    assert "no notebooks" in got["empty folder"]["error"]
    assert {p.name: p.read_bytes() for p in paths} == before


def test_old_format_v3_is_converted_and_graded(tmp_path, grade_json):
    path = tmp_path / "old.ipynb"
    path.write_bytes(_v3(tmp_path))
    status, out, _ = grade_json(path)
    assert status == 0
    nb = out["notebooks"][0]
    assert nb["status"] == "graded" and nb["score"] == nb["max_score"]


def editor_variants():
    """What popular editors write into a saved notebook (metadata they add, ids, outputs), applied to a solution."""
    base = solved("01_neuron")

    def lab4(nb):  # JupyterLab 4 / Notebook 7: nbformat 4.5 cell ids, execution outputs, trusted flags
        nb.nbformat_minor = 5
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"cell-{i:04d}"
            if cell.cell_type == "code":
                cell.execution_count = i + 1
                cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
        nb.metadata["language_info"] = {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"}
        return nb

    def vscode(nb):  # VS Code: its own metadata on the notebook and cells, an older minor version
        nb.nbformat_minor = 2
        for cell in nb.cells:
            cell.pop("id", None)
            cell.metadata["vscode"] = {"languageId": "python"}
        nb.metadata["vscode"] = {"interpreter": {"hash": "0" * 64}}
        return nb

    def colab(nb):  # Colab: colab metadata, its own cell ids in metadata, a different kernelspec
        nb.metadata = {
            "colab": {"provenance": [], "name": "01_neuron.ipynb"},
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
        }
        for i, cell in enumerate(nb.cells):
            cell.metadata["id"] = f"Xy{i}"
            cell.metadata["colab"] = {"base_uri": "https://localhost:8080/"}
        return nb

    return {
        "lab4.ipynb": lab4(copy.deepcopy(base)),
        "vscode.ipynb": vscode(copy.deepcopy(base)),
        "colab.ipynb": colab(base),
    }


def test_notebooks_saved_by_other_editors_grade_the_same(tmp_path, grade_json):
    paths = [write(nb, tmp_path / name) for name, nb in editor_variants().items()]
    status, out, _ = grade_json(*paths)
    assert status == 0
    for nb in out["notebooks"]:
        assert nb["status"] == "graded" and nb["score"] == nb["max_score"] > 0, nb


def test_edited_deleted_duplicated_and_stripped_cells(tmp_path, grade_json):
    a = "01_neuron"
    tests = [meta(c)["grade_id"] for c in released(a).cells if meta(c).get("grade") and not meta(c).get("solution")]
    edited = solved(a)
    edited.cells[cell_index(edited, tests[0])].source = "pass  # nothing to see here"
    deleted = solved(a)
    del deleted.cells[cell_index(deleted, tests[1])]
    duplicated = solved(a)
    twin = copy.deepcopy(duplicated.cells[cell_index(duplicated, tests[0])])
    twin["id"] = "a-second-copy"  # a copied cell gets a new cell id, but keeps its nbgrader metadata
    duplicated.cells.append(twin)
    stripped = solved(a)
    for cell in stripped.cells:
        cell.metadata.pop("nbgrader", None)
    renamed = solved(a)
    paths = [
        write(edited, tmp_path / "edited.ipynb"),
        write(deleted, tmp_path / "deleted.ipynb"),
        write(duplicated, tmp_path / "duplicated.ipynb"),
        write(stripped, tmp_path / "stripped.ipynb"),
        write(renamed, tmp_path / "my copy (2) – final ünïcode.ipynb"),
    ]
    before = [digest(p) for p in paths]
    status, out, _ = grade_json(*paths)
    assert status == 0
    got = by_name(out)
    for nb in got.values():
        assert nb["status"] == "graded" and nb["assignment"] == a
        assert nb["score"] == nb["max_score"], nb  # restored tests, run on the learner's correct answers
    first = {t["grade_id"]: t for t in got["edited.ipynb"]["tests"]}[tests[0]]
    assert "edited" in first["feedback"] and "restored" in first["feedback"]
    second = {t["grade_id"]: t for t in got["deleted.ipynb"]["tests"]}[tests[1]]
    assert "missing" in second["feedback"]
    assert "two cells" in {t["grade_id"]: t for t in got["duplicated.ipynb"]["tests"]}[tests[0]]["feedback"]
    assert [digest(p) for p in paths] == before


def test_directory_grades_every_notebook_and_assignment_can_be_forced(solved_dir, tmp_path, grade_json):
    status, out, _ = grade_json(solved_dir)
    assert status == 0 and len(out["notebooks"]) == len(ASSIGNMENTS)
    nb = solved("02_learning_rate")
    for cell in nb.cells:  # no clue left but the code: --assignment says which exercise it is
        cell.metadata.pop("nbgrader", None)
    path = write(nb, tmp_path / "untitled.ipynb")
    status, out, _ = grade_json("--assignment", "02_learning_rate", path)
    assert status == 0 and out["notebooks"][0]["assignment"] == "02_learning_rate"
    assert out["notebooks"][0]["score"] == out["notebooks"][0]["max_score"]


@pytest.mark.parametrize(
    "args, words",
    [
        ((), "required"),
        (("--assignment", "06_transformers", "x.ipynb"), "--assignment must be one of"),
        (("--timeout", "0", "x.ipynb"), "--timeout must be a positive"),
        (("--timeout", "soon", "x.ipynb"), "invalid float value"),
        (("--memory", "10", "x.ipynb"), "--memory must be at least"),
        (("--bogus", "x.ipynb"), "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_2_with_one_message(run, args, words):
    proc = run("grade", *args)
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr


def test_table_output_names_failures_and_the_page_to_read(run):
    proc = run("grade", REPO / "exercises" / "01_neuron" / "01_neuron.ipynb")
    assert proc.returncode == 0
    assert "fail" in proc.stdout and "NotImplementedError" in proc.stdout
    assert "https://nnbasics.github.io/neuron/" in proc.stdout  # site_url of mkdocs.yml


def test_html_feedback_hides_hidden_tests(tmp_path, run):
    a = "04_loss"
    path = write(solved(a), tmp_path / f"{a}.ipynb")
    proc = run("grade", "--html", tmp_path / "feedback", path)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "feedback" / f"{a}.html").read_text()
    source = nbformat.read(REPO / "solutions" / a / f"{a}.ipynb", as_version=4)
    hidden = [
        c.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
        for c in source.cells
        if "### BEGIN HIDDEN TESTS" in c.source
    ]
    assert hidden, "the source notebook has hidden tests"
    for block in hidden:
        for line in block.strip().splitlines():
            if len(line.strip()) > 20:
                assert line.strip() not in html
    assert "check(" in html  # the visible tests are there


LIMIT_CELLS = {  # a cell of the learner's own, before every test: it hits a limit, and costs nothing
    "loop.ipynb": (["while True:\n    pass"], "timed out after 3 s (the per-cell time limit) and was interrupted"),
    "memory.ipynb": (["big = np.ones((1024, 1024, 160))"], "memory"),
    "chatty.ipynb": (["for i in range(200000):\n    print('spam ' * 20)"], "printed more than 64 KiB of output"),
    "exit.ipynb": (["import os\nos._exit(3)"], "made the kernel die"),
}


def with_cells(sources):
    nb = solved("01_neuron")
    at = cell_index(nb, "checks") + 1
    nb.cells[at:at] = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_limits_in_a_cell_that_defines_no_answer_cost_nothing_and_are_noted(tmp_path, solved_dir, grade_json):
    # issue 11: a cell that hits a limit costs its own tests (tests/grader/test_crashes.py), and this one has none
    paths = [write(with_cells(sources), tmp_path / name) for name, (sources, _) in LIMIT_CELLS.items()]
    args = ["--timeout", "3", "--notebook-timeout", "120", "--memory", "1024", "--max-output", "64"]
    status, out, err = grade_json(*args, *paths, solved_dir / "01_neuron.ipynb")
    assert status == 0, err
    check_schema(out)
    got = by_name(out)
    for name, (_, reason) in LIMIT_CELLS.items():
        nb = got[name]
        assert nb["status"] == "graded" and nb["score"] == nb["max_score"] > 0, nb
        first = nb["tests"][0]  # the test right after that cell tells the learner what happened
        assert first["feedback"].startswith("Cell 3 (`") and reason in first["feedback"], first
        assert first["feedback"].endswith("it counted for no test.")


def test_running_out_of_notebook_time_ends_in_crashed_with_the_reason(tmp_path, solved_dir, grade_json):
    # slow.ipynb's cells each stay under 3 s but add up past 8 s
    path = write(with_cells(["import time\ntime.sleep(1.5)"] * 6), tmp_path / "slow.ipynb")
    status, out, err = grade_json("--timeout", "3", "--notebook-timeout", "8", path, solved_dir / "01_neuron.ipynb")
    assert status == 1, err
    check_schema(out)
    got = by_name(out)
    nb = got["slow.ipynb"]
    assert nb["status"] == "crashed", nb
    assert "notebook took longer than its 8 s time limit" in nb["error"]
    assert nb["score"] == 0 and nb["max_score"] > 0
    assert all("notebook took longer" in t["feedback"] and not t["passed"] for t in nb["tests"])
    assert got["01_neuron.ipynb"]["score"] == got["01_neuron.ipynb"]["max_score"]  # a crash beside it costs nothing


@pytest.mark.slow
def test_installed_wheel_grades_outside_the_checkout(tmp_path, solved_dir, grader_env):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            tmp_path / "dist",
            REPO,
        ],
        check=True,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("nnbasics-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "nnbasics/course/solutions/05_chain_rule/05_chain_rule.ipynb" in names
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", tmp_path / "site", wheel],
        check=True,
        capture_output=True,
    )
    env = {**grader_env, "PYTHONPATH": str(tmp_path / "site")}
    code = "import nnbasics.grading.course as c, sys; print(c.source_root()); sys.exit(__import__('nnbasics.cli').cli.main())"
    proc = subprocess.run(
        [sys.executable, "-c", code, "grade", "--json", solved_dir / "03_initialization.ipynb"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    first, rest = proc.stdout.split("\n", 1)
    assert first.startswith(str(tmp_path / "site"))  # the packaged notebooks, not the checkout's
    nb = json.loads(rest)["notebooks"][0]
    assert nb["status"] == "graded" and nb["score"] == nb["max_score"]


def write_escaped(nb, path):
    """Write ``nb`` as JSON that spells its lone surrogates as ``\\udXXX`` escapes (valid JSON, not UTF-8-encodable)."""
    path.write_bytes(nbformat.writes(nb).encode("utf-8", "backslashreplace"))
    return path


def test_oddities_in_code_are_graded_not_crashed(tmp_path, grade_json):
    # issue 12: a lone surrogate in a comment or in printed output, a docstring that names the reference
    nb = solved("01_neuron")
    relu = "# a lone surrogate: \ud83d\n" + nb.cells[cell_index(nb, "relu")].source
    printing = "print('\ud83d')\n" + relu
    sigmoid = nb.cells[cell_index(nb, "sigmoid")].source.replace('"""', '"""As nnbasics.activations.sigmoid does. ', 1)
    paths = [
        write_escaped(solved("01_neuron", {"relu": relu}), tmp_path / "comment.ipynb"),
        write_escaped(solved("01_neuron", {"relu": printing}), tmp_path / "output.ipynb"),
        write(solved("01_neuron", {"sigmoid": sigmoid}), tmp_path / "docstring.ipynb"),
    ]
    status, out, err = grade_json(*paths)
    assert status == 0, err
    check_schema(out)
    for nb in out["notebooks"]:
        assert nb["status"] == "graded" and nb["score"] == nb["max_score"] > 0, nb


def test_another_assignments_notebook_forced_as_this_one_is_named_as_such(solved_dir, grade_json):
    status, out, err = grade_json("--assignment", "02_learning_rate", solved_dir / "01_neuron.ipynb")
    assert status == 1 and "Traceback" not in err
    check_schema(out)
    (nb,) = out["notebooks"]
    assert nb["status"] == "invalid" and nb["assignment"] == "02_learning_rate"
    assert nb["error"] == "01_neuron.ipynb is the notebook of 01_neuron, not of 02_learning_rate"
    assert nb["max_score"] > 0  # what it was out of: a batch's total does not shrink


def test_a_fault_inside_the_grader_still_reports_the_assignment_and_max_score(monkeypatch, solved_dir):
    from nnbasics.grading import grade, pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the grader")

    monkeypatch.setattr(pipeline, "autograde", broken)
    data = (solved_dir / "04_loss.ipynb").read_bytes()
    entry = grade.grade_one(("04_loss.ipynb", data), grade.Limits())
    full = grade.grade_one(("04_loss.ipynb", data), grade.Limits(), assignment="04_loss")
    assert entry == full
    assert entry["status"] == "crashed" and entry["assignment"] == "04_loss"
    assert entry["error"] == "the grader failed on 04_loss.ipynb: RuntimeError: a bug in the grader"
    assert entry["max_score"] == 16.0 and entry["score"] == 0
    assert entry["tests"] and all(t["feedback"] == f"not graded: {entry['error']}" for t in entry["tests"])


# while the kernels boot; while the workers grade; about when the run ends (workers done, results printed); and
# three more moments drawn at random, the same on every run (each bug these found had its own narrow window)
_DRAWN = random.Random(13)
SIGTERM_MOMENTS = [0.5, 1.5, 3.0, *(round(_DRAWN.uniform(0.3, 4.0), 2) for _ in range(3))]


@pytest.mark.parametrize("moment", SIGTERM_MOMENTS)
def test_sigterm_stops_grade_as_ctrl_c_does_and_leaves_nothing(tmp_path, grader_env, moment):
    folder = tmp_path / "notebooks"
    for a in ASSIGNMENTS:
        write(solved(a), folder / f"{a}.ipynb")
    # the run's private courses and kernel folders go here: a short path, or kernel.kernels_parent sends the
    # kernels' folders to /tmp, where this test would not see one left behind
    temp = Path(tempfile.mkdtemp(prefix="nnb-", dir="/tmp"))
    env = dict(grader_env, TMPDIR=str(temp))
    cmd = [sys.executable, "-m", "nnbasics.cli", "grade", str(folder)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not psutil.Process(proc.pid).children() and time.monotonic() < deadline:
        time.sleep(0.05)  # until the command has started its first kernel (its signal handler is set by then)
    time.sleep(moment)
    started = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGTERM)  # to the command only, as `kill` sends it
    out, err = finish(proc, 120)
    # no traceback, the grader's, an idle worker's or a kernel's stopped while it boots (the kernels' stderr is
    # not the grader's); the last moment may come after the run has finished, or while Python exits after it
    assert "Traceback" not in err, err
    finished = moment >= 2.5 and proc.returncode in (0, -signal.SIGTERM) and out.count("score ") == len(ASSIGNMENTS)
    assert finished or (proc.returncode == 143 and "interrupted" in err), (proc.returncode, err)
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    left = list(temp.iterdir())
    shutil.rmtree(temp)
    assert left == []


def test_a_finished_notebooks_kernel_folder_goes_while_the_others_still_grade(tmp_path, grader_env):
    """The batch discards each kernel it launched ahead when that notebook is done, not at the end of the run."""
    folder = tmp_path / "notebooks"
    write(solved("01_neuron"), folder / "fast.ipynb")
    slow = solved("02_learning_rate")
    slow.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(6)"))  # a learner's cell: costs nothing
    write(slow, folder / "slow.ipynb")
    temp = Path(tempfile.mkdtemp(prefix="nnb-", dir="/tmp"))  # short: kernels_parent keeps the kernels here
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnbasics.cli", "grade", "--json", str(folder)],
        env=dict(grader_env, TMPDIR=str(temp)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    counts = []
    while proc.poll() is None:
        counts.append(len(list(temp.glob("nnbasics-kernel-*"))))
        time.sleep(0.1)
    out, err = finish(proc, 60)
    entries = {Path(e["path"]).name: e for e in json.loads(out)["notebooks"]}
    assert [entries[n]["score"] for n in ("fast.ipynb", "slow.ipynb")] == [14.0, 14.0], err
    assert 2 in counts and counts.count(1) >= 10, counts  # one folder left for a second or more: the slow one's
    assert list(temp.iterdir()) == []
    shutil.rmtree(temp)


# SQLAlchemy stopped inside a fetch closes the cursor of a database the stop has closed, and logs the error with
# its traceback (CI saw it once in the test above, at 2.84 s); here the same call, the stop raised by the real handler
STOPPED_WHILE_FETCHING = """
import logging, signal
import sqlalchemy
from nnbasics.grading.command import Terminated, stop_on_sigterm

stop_on_sigterm()
connection = sqlalchemy.create_engine("sqlite://").connect()
cursor = connection.connection.cursor()
connection.connection.dbapi_connection.close()
try:
    signal.raise_signal(signal.SIGTERM)
except Terminated:
    connection._safe_close_cursor(cursor)  # SQLAlchemy's own: logs "Error closing cursor" with the traceback
try:
    raise ValueError("a fault of its own")
except ValueError:
    logging.getLogger("sqlalchemy.pool").error("not about the stop", exc_info=True)
"""


def test_what_a_library_logs_about_the_stop_is_not_printed_and_the_rest_is(grader_env):
    proc = subprocess.run(
        [sys.executable, "-c", STOPPED_WHILE_FETCHING], env=grader_env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "Error closing cursor" not in proc.stderr and "closed database" not in proc.stderr, proc.stderr
    # the control: an error whose chain holds no interrupt is still printed, traceback and all
    assert "not about the stop" in proc.stderr and "ValueError: a fault of its own" in proc.stderr, proc.stderr


def test_a_temporary_folder_too_long_for_sockets_still_grades(tmp_path, solved_dir, grader_env):
    """A TMPDIR whose path leaves no room for the kernel's Unix socket paths (about 104 bytes) still grades.

    Before the fix: "internal error: ZMQError: File name too long", and no grade.
    """
    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 5)
    deep.mkdir(parents=True)
    assert len(str(deep)) > 110
    env = dict(grader_env, TMPDIR=str(deep))
    notebook = solved_dir / f"{ASSIGNMENTS[0]}.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "nnbasics.cli", "grade", "--json", str(notebook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    entry = json.loads(proc.stdout)["notebooks"][0]
    assert entry["status"] == "graded" and entry["score"] == entry["max_score"] > 0
    assert list(deep.iterdir()) == []  # nothing left behind in it


def test_a_worker_killed_from_outside_costs_its_run_one_clear_line_and_leaves_nothing(tmp_path, grader_env):
    folder = tmp_path / "notebooks"
    for a in ASSIGNMENTS:
        write(solved(a), folder / f"{a}.ipynb")
    temp = Path(tempfile.mkdtemp(prefix="nnb-", dir="/tmp"))  # short, as in the test above
    env = dict(grader_env, TMPDIR=str(temp))
    cmd = [sys.executable, "-m", "nnbasics.cli", "grade", "--json", str(folder)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    command, victim, deadline = psutil.Process(proc.pid), None, time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:  # a worker with its notebook's private course open
        for worker in command.children():
            with contextlib.suppress(psutil.Error):
                if any("nnbasics-grade-" in f.path for f in worker.open_files()):
                    victim = worker
                    break
        time.sleep(0.01)
    assert victim is not None, "no worker opened a private course"
    started = command.children(recursive=True)
    victim.kill()  # as the out-of-memory killer does: no handler runs, nothing of its own is cleaned up
    out, err = finish(proc, 120)
    assert proc.returncode == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    entries = json.loads(out)["notebooks"]
    assert len(entries) == len(ASSIGNMENTS)
    lost = [e for e in entries if e["status"] != "graded"]
    assert lost and all(e["status"] == "crashed" and "killed from outside" in e["error"] for e in lost), lost
    _, alive = psutil.wait_procs(started, timeout=10)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    left = list(temp.iterdir())
    shutil.rmtree(temp)
    assert left == []  # the killed worker's private course went with the run's folder
