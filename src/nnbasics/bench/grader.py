"""Benchmark of the grader: ``nnbasics grade`` vs plain ``nbgrader autograde``, ``--watch``, class speed-up, Dask.

Prints, measured in one run on this machine, each pair side by side (ours,
then stock, then ours again ...: the machine's speed drifts, so each figure
is a median of per-pair ratios, with the median raw times):

* one solved notebook: ``nnbasics grade`` (a fresh process, gradebook cache
  warm as on a learner's second run) against one ``nbgrader autograde``
  process grading that notebook in a course directory (target <= 0.3);
* the five solved notebooks: one ``nnbasics grade`` against one
  ``nbgrader autograde '*'`` (target <= 0.3);
* ``nnbasics grade --watch``: from the moment a save lands (the file renamed
  over the notebook, as Jupyter saves) to the moment the new table is
  printed, against one ``nbgrader autograde`` of that notebook (target <= 0.15);
* ``grade-class`` on a generated class of 40 submissions with ``--jobs 1``
  and ``--jobs 2``, and the speed-up (target >= 1.8 on 2 cores);
* notebooks per second for local ``--jobs 2`` and for a 2-worker Dask
  ``LocalCluster``, the Dask overhead per task, and a paper estimate for
  5,000 learners on 50 workers.
"""

import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .._env import with_scripts_on_path
from ..assignments import ASSIGNMENTS
from ..grading import course
from ..grading.course import source_root

ROUNDS = 3  # pairs per figure
WATCH_PAUSE = 4.0  # seconds between saves, as a learner types (the next kernel boots meanwhile)


def _nnbasics(*args):
    return [sys.executable, "-m", "nnbasics", *map(str, args)]


def _env():
    env = with_scripts_on_path()
    # As on a learner's machine, both sides load compiled bytecode: pip compiles an installed package's modules,
    # and Python caches those of an editable install on first import, unless told not to (as some shells are).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _timed(cmd, cwd=None):
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed: {proc.stderr[-500:]}")
    return elapsed


def solved_notebook(assignment):
    """A solved notebook of ``assignment`` as JSON text."""
    import nbformat

    return nbformat.writes(course.solved_notebook(assignment))


def _figure(label, ours, stock, target):
    """Print one figure from paired raw times: median times and the median of the per-pair ratios."""
    ratio = statistics.median(a / b for a, b in zip(ours, stock))
    print(
        f"  {label}: nnbasics {statistics.median(ours):.2f} s, nbgrader {statistics.median(stock):.2f} s"
        f" (medians of {len(ours)} pairs; raw {', '.join(f'{a:.2f}/{b:.2f}' for a, b in zip(ours, stock))})"
    )
    print(f"    ratio nnbasics/nbgrader = {ratio:.2f}  (target <= {target})", flush=True)
    return ratio


def _stock_course(tmp):
    """A course directory with the five solved submissions, set up as an instructor would (not timed)."""
    root = tmp / "course"
    shutil.copytree(source_root(), root / "source")
    for a in ASSIGNMENTS:
        target = root / "submitted" / "learner" / a
        target.mkdir(parents=True)
        (target / f"{a}.ipynb").write_text(solved_notebook(a))
    for a in ASSIGNMENTS:
        _timed(["nbgrader", "generate_assignment", a, "--force"], cwd=root)
    return root


class _Watch:
    """A running ``nnbasics grade --watch``, its output lines read with the time each arrived."""

    def __init__(self, notebook):
        self.proc = subprocess.Popen(
            _nnbasics("grade", "--watch", notebook),
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put((time.perf_counter(), line))

    def next_table(self, timeout=300):
        """The time at which the next table's score line was printed."""
        deadline = time.perf_counter() + timeout
        while True:
            at, line = self.lines.get(timeout=max(0.1, deadline - time.perf_counter()))
            if line.startswith("score "):
                return at

    def stop(self):
        self.proc.send_signal(signal.SIGINT if os.name == "posix" else signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _save(path, text):
    """Save ``text`` to ``path`` as Jupyter does (a temporary file renamed over it); the time it landed."""
    tmp = path.with_name(f".~{path.name}")
    tmp.write_text(text)
    os.replace(tmp, path)
    return time.perf_counter()


def bench_single(tmp):
    """nnbasics grade vs nbgrader autograde: one notebook, the five, and a save under --watch."""
    learner = tmp / "learner"
    learner.mkdir()
    for a in ASSIGNMENTS:
        (learner / f"{a}.ipynb").write_text(solved_notebook(a))
    files = [learner / f"{a}.ipynb" for a in ASSIGNMENTS]
    one = ASSIGNMENTS[0]
    _timed(_nnbasics("grade", *files))  # warm the gradebook cache and the bytecode, as a learner's first run does
    root = _stock_course(tmp)

    ours, stock = [], []
    for _ in range(ROUNDS):
        ours.append(_timed(_nnbasics("grade", files[0])))
        stock.append(_timed(["nbgrader", "autograde", one, "--force"], cwd=root))
    single = _figure(f"grade 1 solved notebook ({one})", ours, stock, 0.3)

    ours, stock = [], []
    for _ in range(ROUNDS):
        ours.append(_timed(_nnbasics("grade", *files)))
        stock.append(_timed(["nbgrader", "autograde", "*", "--force"], cwd=root))
    five = _figure("grade 5 solved notebooks", ours, stock, 0.3)

    text = files[0].read_text()
    watcher = _Watch(files[0])
    ours, stock = [], []
    try:
        watcher.next_table()  # the grade of the file as it was
        for i in range(ROUNDS):
            time.sleep(WATCH_PAUSE)
            saved = _save(files[0], text + " " * (i + 1))  # a new save: same notebook, other bytes
            ours.append(watcher.next_table() - saved)
            stock.append(_timed(["nbgrader", "autograde", one, "--force"], cwd=root))
    finally:
        watcher.stop()
    watch = _figure(f"--watch: save to new table ({one})", ours, stock, 0.15)
    return single, five, watch


def make_class(root, students):
    """``students`` x 5 solved submissions in nbgrader's submitted/ layout."""
    for s in range(students):
        for a in ASSIGNMENTS:
            target = root / "submitted" / f"student{s:03d}" / a
            target.mkdir(parents=True, exist_ok=True)
            (target / f"{a}.ipynb").write_text(solved_notebook(a))
    return root / "submitted"


def bench_class(tmp, students=8):
    """grade-class on students x 5 submissions with --jobs 1, --jobs 2 and a 2-worker Dask LocalCluster."""
    sub = make_class(tmp / "class", students)
    n = students * len(ASSIGNMENTS)
    times = {}
    for label, extra in (("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"])):
        out = tmp / f"grades{extra[-1]}.csv"
        times[label] = _timed(_nnbasics("grade-class", sub, *extra, "--force", "--out", out), cwd=tmp / "class")
    speedup = times["--jobs 1"] / times["--jobs 2"]
    print(f"  grade-class, {n} submissions: --jobs 1 {times['--jobs 1']:.1f} s, --jobs 2 {times['--jobs 2']:.1f} s")
    print(f"  speed-up = {speedup:.2f}  (target >= 1.8 on 2 cores)")
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("  Dask: not installed (pip install 'nnbasics[dask]')")
        return
    dask_time = _timed(
        _nnbasics("grade-class", sub, "--scheduler", "local:2", "--force", "--out", tmp / "grades-dask.csv"),
        cwd=tmp / "class",
    )
    local_rate, dask_rate = n / times["--jobs 2"], n / dask_time
    overhead = (dask_time - times["--jobs 2"]) / n * 2  # per task, per worker slot
    print(
        f"  throughput: local --jobs 2 {local_rate:.2f} notebooks/s, Dask LocalCluster(2) {dask_rate:.2f} notebooks/s"
    )
    print(f"  Dask overhead ~ {overhead * 1000:.0f} ms per task (cluster start-up included)")
    per_worker = local_rate / 2
    hours = 5000 * len(ASSIGNMENTS) / (50 * per_worker) / 3600
    print(
        f"  estimate: 5,000 learners x 5 notebooks on 50 one-core workers at {per_worker:.2f} notebooks/s each"
        f" = {hours * 60:.0f} minutes"
    )


def main():
    """Print the grader's benchmark figures."""
    with tempfile.TemporaryDirectory(prefix="nnbasics-bench-") as tmp:
        tmp = Path(tmp)
        bench_single(tmp)
        bench_class(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
