"""What a learner meets around the grade itself: ``python -m nnbasics``, unsaved edits, the start-up stand-ins."""

import json
import os
import shutil
import subprocess
import sys
import time

import nbformat
import pytest
from testkit.notebooks import REPO, digest, released, solved, write

from nnbasics._env import scripts_dir
from nnbasics.assignments import ASSIGNMENTS


def _run(argv, env, cwd):
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_python_m_nnbasics_is_the_console_script(tmp_path, grader_env):
    """Same stdout, stderr and exit status, for a graded, an ungradable and a mistyped command."""
    script = shutil.which("nnbasics", path=scripts_dir())
    assert script, "the nnbasics console script is installed beside this Python"
    good = write(solved("01_neuron"), tmp_path / "01_neuron.ipynb")
    (tmp_path / "broken.ipynb").write_text("{ not json")
    cases = [
        ["grade", good.name],  # a table, exit 0
        ["grade", "--json", good.name, "broken.ipynb"],  # JSON, one invalid: exit 1
        ["grade", "--timeout", "0", good.name],  # usage error: exit 2
        ["grade"],  # argparse's own usage error
        ["--version"],
    ]
    for args in cases:
        module = _run([sys.executable, "-m", "nnbasics", *args], grader_env, tmp_path)
        console = _run([script, *args], grader_env, tmp_path)
        assert (module.returncode, module.stdout, module.stderr) == (console.returncode, console.stdout, console.stderr)
    assert [_run([sys.executable, "-m", "nnbasics", *a], grader_env, tmp_path).returncode for a in cases] == [
        0,
        1,
        2,
        2,
        0,
    ]


def _checkpoint(folder, path):
    """Save ``path`` and create its checkpoint with jupyter_server's own contents manager, as Jupyter does."""
    from jupyter_server.services.contents.filemanager import FileContentsManager

    manager = FileContentsManager(root_dir=str(folder))
    model = manager.get(path.name, content=True)
    manager.save(model, path.name)
    return manager.create_checkpoint(path.name)


def test_grader_says_when_jupyter_holds_a_newer_copy(tmp_path, run):
    """The file on disk is older than its checkpoint: one sentence, the file graded as saved, nothing written."""
    path = write(solved("01_neuron"), tmp_path / "01_neuron.ipynb")
    _checkpoint(tmp_path, path)
    checkpoint = tmp_path / ".ipynb_checkpoints" / "01_neuron-checkpoint.ipynb"
    assert checkpoint.is_file()
    # the file goes back to the downloaded exercise, dated before the checkpoint (e.g. restored from a copy)
    write(released("01_neuron"), path)
    past = time.time() - 600
    os.utime(path, (past, past))
    before = {p: digest(p) for p in (path, checkpoint)}
    stamps = {p: p.stat().st_mtime_ns for p in (path, checkpoint)}

    proc = run("grade", "--json", path)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "older than the copy Jupyter saved" in line]
    assert len(notes) == 1, proc.stderr
    assert "01_neuron.ipynb" in notes[0] and "01_neuron-checkpoint.ipynb" in notes[0] and "Ctrl+S" in notes[0]
    assert notes[0].count(". ") == 0  # one sentence
    import json

    nb = json.loads(proc.stdout)["notebooks"][0]
    assert nb["score"] == 0  # the saved file (the exercise) is what was graded, not the checkpoint
    assert {p: digest(p) for p in (path, checkpoint)} == before
    assert {p: p.stat().st_mtime_ns for p in (path, checkpoint)} == stamps


def test_no_note_when_the_file_is_the_latest_save(tmp_path, run):
    path = write(solved("01_neuron"), tmp_path / "01_neuron.ipynb")
    _checkpoint(tmp_path, path)  # saved with a checkpoint: both the same
    proc = run("grade", path)
    assert proc.returncode == 0 and "older than the copy" not in proc.stderr
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nedited after the checkpoint"
    write(nb, path)  # a later autosave: the file is newer than the checkpoint
    proc = run("grade", path)
    assert proc.returncode == 0 and "older than the copy" not in proc.stderr


STAND_INS = """
import sys
import nnbasics.grading  # installs the stand-ins before nbgrader is imported
import nbgrader.api, nbgrader.preprocessors, nbgrader.converters.autograde
heavy = ["jupyter_server", "setuptools", "requests", "yaml", "arrow", "rfc3986_validator", "rfc3339_validator", "six",
         "nbgrader.exchange", "nbgrader.apps"]
print("loaded:", [m for m in heavy if type(sys.modules.get(m)).__name__ == "module"])
# each stand-in still gives the real thing when used
import yaml, requests
assert yaml.safe_load("a: [1, 2]") == {"a": [1, 2]}
assert callable(requests.Session) and "requests" in type(requests.Session()).__module__
import nbgrader.server_extensions.formgrader.handlers as handlers  # a submodule of a deferred package's module
assert handlers.FormgraderHandler.__module__ == handlers.__name__
import pathlib, tempfile, zipfile
from nbgrader.utils import unzip  # calls setuptools' unpack_archive through its stand-in
with tempfile.TemporaryDirectory() as tmp:
    with zipfile.ZipFile(f"{tmp}/a.zip", "w") as z:
        z.writestr("x/y.txt", "unpacked")
    pathlib.Path(tmp, "out").mkdir()
    unzip(f"{tmp}/a.zip", f"{tmp}/out")
    assert pathlib.Path(tmp, "out", "x", "y.txt").read_text() == "unpacked"
assert type(sys.modules["setuptools.archive_util"]).__name__ == "module"  # the real one, from then on
import jsonschema
checker = jsonschema.FormatChecker()
assert checker.conforms("http://a.b/c", "uri") and not checker.conforms("x y", "uri")
assert checker.conforms("2026-12-04T02:10:39Z", "date-time") and not checker.conforms("2026-13-04T02:10:39Z", "date-time")
from nbgrader.server_extensions.formgrader import load_jupyter_server_extension
assert callable(load_jupyter_server_extension)
print("ok")
"""


def test_start_up_stand_ins_defer_and_still_deliver(grader_env):
    """The grader does not import nbgrader's server side at start-up, and everything is there when used."""
    proc = subprocess.run([sys.executable, "-c", STAND_INS], capture_output=True, text=True, env=grader_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["loaded: []", "ok"]


MARKDOWN_DEFERRED = """
import sys
from nnbasics import _fast_imports
_fast_imports.defer_markdown()  # as `nnbasics grade` does
import nnbasics.grading.pipeline, nnbasics.grading.feedback  # everything grading and --html import
renderers = ["mistune", "bs4", "soupsieve"]
print("loaded:", [m for m in renderers if type(sys.modules.get(m)).__name__ == "module"])
import nbformat
from nbconvert import HTMLExporter
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Sigmoid\\n\\n**bold** and <img src='x.png'>")])
html, _ = HTMLExporter().from_notebook_node(nb)  # renders through the stand-ins' real modules
assert "<h1" in html and "<strong>bold</strong>" in html, html[-2000:]
print("loaded:", [m for m in renderers if type(sys.modules.get(m)).__name__ == "module"])
"""


def test_grading_defers_the_markdown_renderer_and_an_html_page_still_renders_it(grader_env):
    proc = subprocess.run([sys.executable, "-c", MARKDOWN_DEFERRED], capture_output=True, text=True, env=grader_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["loaded: []", "loaded: ['mistune', 'bs4', 'soupsieve']"]


COLLECTOR = """
import gc, json, sys
from nnbasics.cli import main
runs = []  # at each collection: was nbgrader imported, how many objects were frozen
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(("nbgrader" in sys.modules, gc.get_freeze_count())))
made_before = []  # a container made before main(): tracked, and frozen only if the freeze comes later
status = main(["grade", "--json", sys.argv[1]])
import nbgrader.preprocessors  # imported by the grader: the dict of its names is one of the objects its import made
made_after = []
seen = {id(o) for o in gc.get_objects()}  # the collector's generations: frozen objects are not among them
frozen = {"nbgrader": id(vars(nbgrader.preprocessors)) not in seen, "before": id(made_before) not in seen,
          "after": id(made_after) not in seen}
print(json.dumps({"status": status, "runs": runs, "enabled": gc.isenabled(), "frozen": frozen}))
"""


def test_grade_pauses_the_cycle_collector_until_nbgrader_is_imported_then_resumes_it(tmp_path, grader_env):
    write(solved("01_neuron"), tmp_path / "01_neuron.ipynb")
    cmd = [sys.executable, "-c", COLLECTOR, str(tmp_path / "01_neuron.ipynb")]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=grader_env)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout.splitlines()[-1])
    assert run["status"] == 0 and run["enabled"]
    # the collector never ran while nbgrader was imported, and ran again once the imports were frozen out of its way
    assert not [frozen for imported, frozen in run["runs"] if imported and not frozen]
    assert [frozen for imported, frozen in run["runs"] if imported]
    # what nbgrader's import made was frozen (so the freeze came after it), and the collector still tracks new objects
    assert run["frozen"] == {"nbgrader": True, "before": True, "after": False}


@pytest.mark.parametrize("module", ["nnbasics.grading.watch", "nnbasics.grading.command"])
def test_learner_modules_import_without_nbgrader(module, grader_env):
    """The commands' own modules load nothing heavy: the kernel can be launched before nbgrader is imported."""
    code = f"import sys, {module}; print('nbgrader' in sys.modules, 'nbformat' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=grader_env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


# The program's end, with a stand-in for main: a megabyte of output (more than a pipe holds), an exit handler, and an
# object alive at the end whose finalizer only the interpreter's teardown would run.
PROGRAM_END = """
import atexit, sys
import nnbasics.cli as cli

class Alive:
    def __del__(self):
        print("finalized at teardown", file=sys.stderr)

alive = Alive()
atexit.register(lambda: print("exit handler ran", file=sys.stderr))

def main():
    print(sys.argv[2] * int(sys.argv[3]))
    return eval(sys.argv[1])

cli.main = main
cli.console()
print("after console", file=sys.stderr)
"""


@pytest.mark.parametrize("returned, status", [("0", 0), ("3", 3), ("None", 0), ("'odd'", 1)])
def test_the_program_flushes_runs_its_exit_handlers_and_ends_with_mains_status_without_the_teardown(
    returned, status, grader_env
):
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM_END, returned, "x", str(1 << 20)], capture_output=True, text=True, env=grader_env
    )
    assert proc.returncode == status
    assert proc.stdout == "x" * (1 << 20) + "\n"
    assert proc.stderr == "exit handler ran\n"  # neither the teardown's finalizer nor anything after console()


def test_the_program_ends_quietly_with_its_status_when_its_reader_has_gone(grader_env):
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM_END, "4", "x", "100"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        env={k: v for k, v in grader_env.items() if k != "PYTHONUNBUFFERED"},  # the line waits in stdout's buffer
        text=True,
    )
    proc.stdout.close()  # as `nnbasics grade ... | head -0` would: the buffered line cannot be written
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 4
    assert err == "exit handler ran\n"


# Whether the table's library was loaded when the command took each notebook's entry from its worker.
TABLE_IMPORTS = """
import json, sys
import nnbasics.grading.grade as grade
from nnbasics.cli import main
seen, outcome = [], grade._outcome
grade._outcome = lambda *a: seen.append("rich.table" in sys.modules) or outcome(*a)
status = main(["grade", *sys.argv[1:]])
print(json.dumps({"status": status, "seen": seen}), file=sys.stderr)
"""


@pytest.mark.parametrize("json_out", [False, True])
def test_the_table_is_imported_while_the_workers_grade_and_not_at_all_for_json(json_out, tmp_path, grader_env):
    paths = [write(solved(a), tmp_path / f"{a}.ipynb") for a in ("01_neuron", "04_loss")]
    args = [*(["--json"] if json_out else []), *map(str, paths)]
    proc = subprocess.run([sys.executable, "-c", TABLE_IMPORTS, *args], capture_output=True, text=True, env=grader_env)
    run = json.loads(proc.stderr.splitlines()[-1])
    assert run == {"status": 0, "seen": [not json_out] * 2}, proc.stderr


def test_the_program_waits_for_a_thread_that_is_not_a_daemon_as_a_normal_exit_does(grader_env):
    late = PROGRAM_END.replace(
        "cli.main = main",
        "import threading, time\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done', file=sys.stderr))).start()\n"
        "cli.main = main",
    )
    proc = subprocess.run([sys.executable, "-c", late, "5", "x", "3"], capture_output=True, text=True, env=grader_env)
    assert proc.returncode == 5
    assert proc.stdout == "xxx\n"
    assert "thread done\n" in proc.stderr and "exit handler ran\n" in proc.stderr


WORKER_IMPORTS = """
import json, sys
from pathlib import Path
from nnbasics.grading import grade, gradebook
from nnbasics.grading.limits import Limits
gradebook.template_gradebook()  # what grade_all does before its workers fork
grade._import_grading()
before = set(sys.modules)
with grade.run_folder():
    entries = [grade.grade_one((p, Path(p).read_bytes()), Limits()) for p in sys.argv[1:]]
scores = [[e["status"], e["score"] == e["max_score"] > 0] for e in entries]
print(json.dumps([scores, sorted(set(sys.modules) - before)]))
"""


def test_a_forked_worker_imports_nothing_of_its_own(tmp_path, grader_env):
    """All that grading imports is imported before the workers fork: each would otherwise import it again."""
    paths = [str(write(solved(a), tmp_path / f"{a}.ipynb")) for a in ASSIGNMENTS]
    proc = _run([sys.executable, "-c", WORKER_IMPORTS, *paths], grader_env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    scores, imported = json.loads(proc.stdout.splitlines()[-1])
    assert scores == [["graded", True]] * 5  # every solved notebook graded, with full marks
    assert imported == []
