"""``nnbasics grade --watch``: a new grade at every save, however the editor saves, and a clean Ctrl+C."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import nbformat
import psutil
import pytest
from testkit.notebooks import digest, released, solved, write

pytestmark = pytest.mark.slow


class Watching:
    """``python -m nnbasics grade --watch ARGS`` running, its standard output read line by line."""

    def __init__(self, env, *args):
        cmd = [sys.executable, "-m", "nnbasics", "grade", "--watch", *map(str, args)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(ln) for ln in self.proc.stdout], daemon=True).start()

    def next_line(self, timeout=180):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"no output within {timeout} s; stderr so far: {self.stop()[1]}")

    def grade(self):
        """The next ``--json`` object (one line per grade)."""
        return json.loads(self.next_line())["notebooks"][0]

    def kernels(self):
        """Processes the watch started (its kernels and their sandboxes)."""
        return psutil.Process(self.proc.pid).children(recursive=True)

    def stop(self, signum=signal.SIGINT):
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            _, err = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def _atomic_save(nb, path):
    """As Jupyter saves: a temporary file beside the notebook, renamed over it."""
    tmp = write(nb, path.with_name(f".~{path.name}"))
    os.replace(tmp, path)


def _jupyter_save(nb, path):
    """What JupyterLab's and Notebook 7's Ctrl+S runs on the server: jupyter_server's contents manager."""
    from jupyter_server.services.contents.filemanager import FileContentsManager

    manager = FileContentsManager(root_dir=str(path.parent))
    manager.save({"type": "notebook", "format": "json", "content": nb}, path.name)


def _save_in_two_writes(nb, path):
    """As some editors save: truncate, write part, pause, write the rest (a half-written file in between)."""
    text = nbformat.writes(nb)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[: len(text) // 2])
        f.flush()
        time.sleep(0.02)
        f.write(text[len(text) // 2 :])


def _delete_and_create(nb, path):
    path.unlink()
    time.sleep(0.02)
    write(nb, path)


def test_every_save_is_graded_once_and_ctrl_c_leaves_nothing(tmp_path, grader_env):
    path = write(released("01_neuron"), tmp_path / "01_neuron.ipynb")
    watch = Watching(grader_env, "--json", path)
    try:
        first = watch.grade()
        assert first["status"] == "graded" and first["score"] == 0  # the file as it was
        wrong = solved("01_neuron", {"relu": "def relu(z):\n    return np.abs(np.asarray(z, dtype=float))\n"})
        saves = [
            (_atomic_save, solved("01_neuron"), "full"),
            (_save_in_two_writes, wrong, "relu"),
            (_delete_and_create, solved("01_neuron"), "full"),
            (_jupyter_save, wrong, "relu"),
        ]
        for save, nb, expected in saves:
            time.sleep(1.0)  # a learner types between saves
            save(nb, path)
            before = digest(path)
            entry = watch.grade()
            assert entry["status"] == "graded", (save.__name__, entry)
            failed = [t["grade_id"] for t in entry["tests"] if not t["passed"]]
            assert failed == ([] if expected == "full" else ["test_relu"]), (save.__name__, failed)
            assert digest(path) == before  # never written
        time.sleep(1.5)
        assert watch.lines.empty()  # one grade per save, none while nothing changed
        started = watch.kernels()
        assert started, "a kernel is launched ahead for the next save"
    finally:
        status, err = watch.stop()
    assert status == 0, err
    assert "stopped watching" in err and "Traceback" not in err
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], alive


def test_table_is_printed_at_each_save(tmp_path, grader_env):
    path = write(released("01_neuron"), tmp_path / "01_neuron.ipynb")
    watch = Watching(grader_env, path)
    try:
        while not (line := watch.next_line()).startswith("score "):
            pass
        assert line.split()[:2] == ["score", "0"]
        time.sleep(1.0)
        _atomic_save(solved("01_neuron"), path)
        while not (line := watch.next_line()).startswith("score "):
            pass
        full = sum(
            c.metadata.nbgrader["points"]
            for c in solved("01_neuron").cells
            if c.metadata.get("nbgrader", {}).get("grade")
        )
        assert full == 14 and line.strip() == f"score {full} / {full}"  # five tests of 2 points, four quizzes of 1
        started = watch.kernels()
    finally:
        status, err = watch.stop(signal.SIGTERM)  # `kill` stops it as Ctrl+C does
    assert status == 0 and "stopped watching" in err
    assert not [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.mark.parametrize(("args", "words"), [(["a.ipynb", "b.ipynb"], "one notebook"), (["."], "one notebook file")])
def test_watch_takes_one_notebook(tmp_path, run, args, words):
    proc = run("grade", "--watch", *args, cwd=tmp_path)
    assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr
