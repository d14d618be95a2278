"""``nnbasics grade-class``: grade a class's submissions, locally or on a Dask cluster.

Submissions follow nbgrader's layout ``SUBMITTED_DIR/<student>/<assignment>/<notebook>.ipynb``.
Each one is a task: its bytes go to a worker (a local process, or a Dask
worker anywhere), which grades it exactly as ``nnbasics grade`` does (same
sandbox, limits and verdicts) and sends the result back as data. This
process alone writes the results: a CSV (student, assignment, score,
max_score, status) and the nbgrader gradebook, so ``nbgrader export`` and
formgrader see the grades. Re-running skips what the CSV already holds
unless ``--force``; an interrupted run therefore resumes where it stopped.
"""

import csv
import multiprocessing
import os
import sys
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..assignments import ASSIGNMENTS
from . import results
from .inputs import read_submission
from .limits import Limits

FIELDS = ("student", "assignment", "score", "max_score", "status")
MAX_TRIES = 3  # a submission that takes its worker down this many times is reported crashed


def find_submissions(submitted):
    """``[(student, assignment, path)]`` under nbgrader's submitted/ layout, sorted."""
    found = []
    for student in sorted(p for p in Path(submitted).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for assignment in sorted(p for p in student.iterdir() if p.is_dir() and p.name in ASSIGNMENTS):
            for nb in sorted(assignment.glob("*.ipynb")):
                found.append((student.name, assignment.name, nb))
    return found


def grade_task(data, path, assignment, limits):
    """One task: grade a submission's bytes (or the reason they could not be read) as ``assignment``.

    Returns the notebook entry (plain data). Runs in a worker process (local
    pool or Dask worker) and needs only the installed package.
    """
    from .grade import grade_one

    return grade_one((path, data), limits, assignment)


def _crashed(path, assignment, why):
    from .grade import ungraded

    return ungraded(path, assignment, "crashed", why)


# -- where the tasks run ---------------------------------------------------------
# A task is (key, path, assignment, limits); its bytes are read only when it is sent, so at most a
# window of submissions is in memory at once, however large the class.


def _load_task(task):
    """The arguments of ``grade_task`` for a task: its file's bytes are read only now."""
    _, path, assignment, limits = task
    student_folder = Path(path).parent.parent  # submitted/<student>/<assignment>/<notebook>.ipynb
    return read_submission(path, within=student_folder), str(path), assignment, limits


def run_local(tasks, jobs, on_result):
    """Run tasks on ``jobs`` local worker processes, calling ``on_result(key, entry)`` as each ends.

    A worker that dies costs its tasks a retry (``MAX_TRIES`` in all), never the batch.
    """
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    queue, tries = list(tasks), {}
    while queue:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method)) as pool:
            running = {}
            try:
                while queue or running:
                    while queue and len(running) < 2 * jobs:
                        task = queue.pop(0)
                        running[pool.submit(grade_task, *_load_task(task))] = task
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        task = running.pop(future)
                        on_result(task[0], future.result())
            except BrokenProcessPool:
                for task in running.values():
                    tries[task[0]] = tries.get(task[0], 0) + 1
                    if tries[task[0]] >= MAX_TRIES:
                        on_result(task[0], _crashed(str(task[1]), task[2], "its grading process died repeatedly"))
                    else:
                        queue.insert(0, task)


def run_dask(tasks, address, on_result, window=None):
    """Run tasks on a Dask cluster (``tcp://host:port``, or ``local:N`` for a LocalCluster on 127.0.0.1).

    The scheduler retries a task whose worker died; after its allowed failures
    the task raises ``KilledWorker`` and the submission is reported crashed.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise SystemExit("nnbasics grade-class: --scheduler needs Dask: pip install 'nnbasics[dask]'") from None

    cluster = None
    if address.startswith("local:"):
        n = int(address.split(":", 1)[1])
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
        )
        address = cluster.scheduler_address
        print(f"Dask dashboard: {cluster.dashboard_link}", file=sys.stderr)
    try:
        with Client(address) as client:
            window = window or 4 * max(1, sum(client.nthreads().values()))
            queue, running = list(tasks), {}
            pending = as_completed()

            def send(task):
                student, assignment = task[0]
                future = client.submit(
                    grade_task, *_load_task(task), key=f"grade-{student}-{assignment}-{uuid.uuid4().hex}"
                )
                running[future] = task
                pending.add(future)

            for _ in range(min(window, len(queue))):
                send(queue.pop(0))
            for future in pending:
                task = running.pop(future)
                try:
                    entry = future.result()
                except Exception as e:  # KilledWorker after the allowed failures, or a lost connection
                    entry = _crashed(str(task[1]), task[2], f"its grading worker died repeatedly ({type(e).__name__})")
                on_result(task[0], entry)
                if queue:
                    send(queue.pop(0))
    finally:
        if cluster is not None:
            cluster.close()


# -- the results -----------------------------------------------------------------


def read_csv(path):
    """Rows already graded: ``{(student, assignment): row}`` (empty if there is no CSV)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return {(r["student"], r["assignment"]): r for r in csv.DictReader(f) if r.get("student")}
    except FileNotFoundError:
        return {}
    except (OSError, csv.Error, KeyError) as e:
        raise SystemExit(f"nnbasics grade-class: error: {path} is not a grades CSV ({e})") from None


def write_csv(path, rows):
    """Write all rows sorted by student and assignment, atomically."""
    tmp = Path(f"{path}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        for key in sorted(rows):
            writer.writerow({k: rows[key][k] for k in FIELDS})
    os.replace(tmp, path)


def grade_class_command(args):
    """Run ``nnbasics grade-class``; returns the exit status (0 all graded, 1 some not, 2 usage)."""
    from rich.progress import Progress

    from .gradebook import ensure_course, save_grades, template_gradebook

    submitted = Path(args.submitted)
    if not submitted.is_dir():
        print(f"nnbasics grade-class: error: {submitted} is not a folder", file=sys.stderr)
        return 2
    if args.jobs is not None and args.jobs < 1:
        print(f"nnbasics grade-class: error: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    jobs = args.jobs or os.cpu_count() or 1
    gradebook = Path(args.gradebook) if args.gradebook else submitted.resolve().parent / "gradebook.db"
    limits = Limits(cell_timeout=args.timeout, memory_mb=args.memory)

    rows = {} if args.force else read_csv(args.out)
    todo = [
        ((student, assignment), path, assignment, limits)
        for student, assignment, path in find_submissions(submitted)
        if (student, assignment) not in rows
    ]
    template_gradebook()  # built before workers fork, so they share it
    ensure_course(f"sqlite:///{gradebook}")

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook}") as gb, Progress(transient=True) as progress:
        bar = progress.add_task("grading", total=len(todo))
        # the journal survives an interrupted run: the next run reads it and skips what it holds
        with open(args.out, "w" if args.force else "a", newline="", encoding="utf-8") as journal:
            writer = csv.DictWriter(journal, fieldnames=FIELDS)
            if journal.tell() == 0:
                writer.writeheader()

            paths = {task[0]: task[1] for task in todo}
            course_root = submitted.resolve().parent

            def on_result(key, entry):
                student, assignment = key
                data = read_submission(paths[key], within=Path(paths[key]).parent.parent)
                results.append(course_root, results.record(student, assignment, data, entry))
                row = {"student": student, "assignment": assignment, "score": entry["score"]}
                row.update(max_score=entry["max_score"], status=entry["status"])
                rows[key] = row
                writer.writerow(row)
                journal.flush()
                save_grades(gb, student, assignment, entry)
                progress.advance(bar)

            try:
                if args.scheduler:
                    run_dask(todo, args.scheduler, on_result)
                else:
                    run_local(todo, jobs, on_result)
            except KeyboardInterrupt:
                print("nnbasics grade-class: interrupted; run again to grade the rest", file=sys.stderr)
                return 130
    write_csv(args.out, rows)
    bad = sum(r["status"] != "graded" for r in rows.values())
    print(f"graded {len(todo)} submission(s); {len(rows)} in {args.out}; {bad} not graded; gradebook {gradebook}")
    return 0 if bad == 0 else 1
