"""Benchmark of the item-analysis report: its build time for a class of 40 graded submissions.

Grades (untimed) a generated class of 8 students x 5 assignments with
``grade-class --jobs 2``, every answer cell of every student a little
different (so that every pair of cells is compared in full), then prints,
measured in one run on this machine:

* ``nnbasics report`` in a fresh process (what an instructor waits for;
  interpreter start and imports included), best of 3, with its CPU time
  (user + system: what it costs on a machine other work is not sharing);
* ``nnbasics.report.build`` in this process after a warm-up, best of 3,
  split into loading the journal, the statistics and similarity, and the
  page (figures included);
* that time beside the grading time of the same class.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .._env import with_scripts_on_path
from ..assignments import ASSIGNMENTS
from ..grading import course
from .grader import _nnbasics, _timed

STUDENTS = 8


def make_class(root, students=STUDENTS):
    """``students`` x 5 solved submissions, each answer cell with a statement of its own student's."""
    for s in range(students):
        for a in ASSIGNMENTS:
            answers = course.solved_notebook(a)
            replace = {
                course.nbgrader_meta(c)["grade_id"]: f"{c.source}\n_written_by_{s} = {s}\n"
                for c in answers.cells
                if course.nbgrader_meta(c).get("solution")
            }
            target = root / "submitted" / f"student{s:03d}" / a
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(course.solved_notebook(a, replace), str(target / f"{a}.ipynb"))
    return root / "submitted"


def _best(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _fresh_report(sub, out):
    """Wall and CPU seconds of one ``nnbasics report`` in a new process."""
    before, start = os.times(), time.perf_counter()
    proc = subprocess.run(_nnbasics("report", sub, "--report", out), env=with_scripts_on_path(), capture_output=True)
    wall, after = time.perf_counter() - start, os.times()
    if proc.returncode != 0:
        raise RuntimeError(f"nnbasics report failed: {proc.stderr.decode(errors='replace')[-500:]}")
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def main():
    """Print the report's build-time figures."""
    from .. import report
    from ..report import data, page, similarity

    def cold(fn):  # the canonical forms are cached per source text: time them computed afresh
        def run():
            similarity.canonical.cache_clear()
            return fn()

        return run

    with tempfile.TemporaryDirectory(prefix="nnbasics-bench-report-") as tmp:
        tmp = Path(tmp)
        sub = make_class(tmp)
        n = STUDENTS * len(ASSIGNMENTS)
        grading = _timed(_nnbasics("grade-class", sub, "--jobs", "2", "--out", tmp / "grades.csv"), cwd=tmp)
        fresh, cpu = min(_fresh_report(sub, tmp / "r") for _ in range(3))
        report.build(sub, tmp / "warm")  # imports, caches of the course notebooks and matplotlib
        in_process = _best(cold(lambda: report.build(sub, tmp / "r2")))
        load = _best(lambda: data.load_class(sub))
        klass = data.load_class(sub)
        analysis = _best(cold(lambda: report.analyse(klass)))
        result = report.analyse(klass)
        render = _best(lambda: page.render(klass, *result))
    print(f"  report of {n} submissions ({STUDENTS} students x {len(ASSIGNMENTS)} assignments):")
    print(f"  nnbasics report (fresh process, best of 3) {fresh:.2f} s wall, {cpu:.2f} s CPU")
    print(f"  build() in this process (imports done) {in_process:.2f} s")
    print(f"    of which: journal {load:.2f} s, statistics + similarity {analysis:.2f} s, page {render:.2f} s")
    print(f"  grading the same class (grade-class --jobs 2) {grading:.1f} s: the report adds {fresh / grading:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
