"""Benchmark of the grader: ``nnbasics grade`` vs plain ``nbgrader autograde``, class speed-up, Dask.

Prints, measured in one run on this machine:

* the wall time to grade the five solution notebooks with ``nnbasics grade``
  (one command, fresh process, gradebook cache warm as on a learner's second
  run) and with plain ``nbgrader autograde`` of the same notebooks in a
  course directory, and their ratio (target <= 0.5);
* ``grade-class`` on a generated class of 40 submissions with ``--jobs 1``
  and ``--jobs 2``, and the speed-up (target >= 1.8 on 2 cores);
* notebooks per second for local ``--jobs 2`` and for a 2-worker Dask
  ``LocalCluster``, the Dask overhead per task, and a paper estimate for
  5,000 learners on 50 workers.
"""

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .._env import with_scripts_on_path
from ..assignments import ASSIGNMENTS
from ..grading import course
from ..grading.course import source_root


def _nnbasics(*args):
    return [sys.executable, "-m", "nnbasics.cli", *map(str, args)]


def _env():
    return with_scripts_on_path()


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


def bench_single(tmp):
    """(a) nnbasics grade vs (b) nbgrader autograde on the five solved notebooks."""
    learner = tmp / "learner"
    learner.mkdir()
    course = tmp / "course"
    shutil.copytree(source_root(), course / "source")
    for a in ASSIGNMENTS:
        (learner / f"{a}.ipynb").write_text(solved_notebook(a))
        target = course / "submitted" / "learner" / a
        target.mkdir(parents=True)
        (target / f"{a}.ipynb").write_text(solved_notebook(a))
    files = [learner / f"{a}.ipynb" for a in ASSIGNMENTS]
    _timed(_nnbasics("grade", *files))  # warm the gradebook cache, as a learner's first run does
    ours = min(_timed(_nnbasics("grade", "--json", *files)) for _ in range(2))
    for a in ASSIGNMENTS:  # the course set-up an instructor does once; not timed
        _timed(["nbgrader", "generate_assignment", a, "--force"], cwd=course)
    # one nbgrader process for all five (its fastest way), best of two like ours
    stock = min(_timed(["nbgrader", "autograde", "*", "--force"], cwd=course) for _ in range(2))
    print(f"  grade 5 solved notebooks: nnbasics grade {ours:.2f} s, nbgrader autograde '*' {stock:.2f} s")
    print(f"  ratio nnbasics/nbgrader = {ours / stock:.2f}  (target <= 0.5)")


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
