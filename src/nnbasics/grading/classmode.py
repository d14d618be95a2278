"""``nnbasics grade-class``: grade a class's submissions, locally or on a Dask cluster, into nbgrader's layout.

Submissions follow nbgrader's layout ``SUBMITTED_DIR/<student>/<assignment>/<notebook>.ipynb``;
the course root is SUBMITTED_DIR's parent. Each submission is a task for a
worker (a local process, which reads the file itself, or a Dask worker
anywhere, which gets its bytes), with the fingerprint of the grading material
(``material.py``): the worker refuses a task whose material is not its own,
and otherwise grades it exactly as ``nnbasics grade`` does (same sandbox,
limits and verdicts) and sends the result back as data. This process alone writes, for each result, in this
order and with SIGINT/SIGTERM held back until all of it is written:

1. ``autograded/<student>/<assignment>/<assignment>.ipynb``: the graded notebook, for formgrader;
2. the journal ``.nnbasics/results.jsonl`` (``results.py``), flushed to disk: the commit point;
3. ``gradebook.db``: scores, "needs manual grade" for what could not be graded, the reason as comment;
4. with ``--feedback`` (or when one exists already), ``feedback/<student>/<assignment>/<assignment>.html``;
5. the CSV (``--out``, default ``class-grades.csv``), rewritten whole from the journal.

A submission is identified by the sha256 of its bytes: a run grades what is
new or changed (or graded with other material) and skips the rest, ``--force``
grades everything, ``--student``/``--assignment`` restrict either. Each run
first repairs from the journal whatever the gradebook, the feedback or the CSV
lost (a run killed outright), so they always agree. CSV columns and exit
statuses are those of CONTRIBUTING.md.
"""

import contextlib
import csv
import difflib
import hashlib
import multiprocessing
import os
import re
import shutil
import signal
import sys
import time
import uuid
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from ..assignments import ASSIGNMENTS
from . import results
from .command import Terminated  # SIGTERM: handled as Ctrl-C (workers stopped, what was graded kept), 143
from .inputs import read_submission
from .limits import Limits

HEADER = ("student_id", "assignment", "status", "score", "max_score", "reason", "graded_at", "notebook_sha256")
USAGE, NOT_ALL_GRADED, ALL_GRADED = 2, 1, 0
MAX_TRIES = 3  # a submission that takes its worker down this many times is reported crashed
# CPython 3.11's parser keeps one process-wide counter when it turns syntax trees into objects: a thread of a
# Dask worker formatting a traceback (which parses the failing line) while a task parses a notebook's cell makes
# the task fail with this SystemError. It is the interpreter's fault, not the submission's: grade it again.
AST_RACE, AST_RACE_TRIES = "AST constructor recursion depth mismatch", 3

# nbgrader's own gradebook code trips this SQLAlchemy warning on every submission (harmless, known upstream)
warnings.filterwarnings("ignore", message="Object of type <Submitted")
LAYOUT = "SUBMITTED_DIR/<student>/<assignment>/<notebook>.ipynb"


class UsageError(Exception):
    """A bad option or a folder that is not a class to grade; the message is the one sentence to print."""


# -- the class on disk --------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """One student's folder for one assignment; ``path`` is None when it holds no notebook (``missing``)."""

    student: str
    assignment: str
    path: Path | None
    folder: Path

    @property
    def key(self):
        return self.student, self.assignment

    @property
    def name(self):
        return f"{self.student}/{self.assignment}"


def _visible(folder):
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _notebooks(folder):
    return [p for p in _visible(folder) if p.suffix == ".ipynb" and (p.is_symlink() or not p.is_dir())]


def scan(submitted):
    """Every submission (and missing one) under ``submitted``, sorted; ``UsageError`` if it is not a class.

    A student folder lacking an assignment that another student submitted
    gets a ``missing`` submission (``path`` None).
    """
    submitted = Path(submitted)
    if not submitted.is_dir():
        raise UsageError(f"{submitted} is not a folder")
    if (submitted / "submitted").is_dir() or (submitted / "gradebook.db").exists():
        raise UsageError(f"{submitted} looks like a course root; pass its submitted/ folder ({LAYOUT})")
    if _notebooks(submitted):
        raise UsageError(f"{submitted} holds notebooks directly, not nbgrader's layout {LAYOUT}")
    found, students = [], [p for p in _visible(submitted) if p.is_dir()]
    for student in students:
        if student.is_symlink():  # its files would pass for this student's own
            raise UsageError(f"{student} is a link to another folder, not a student's own folder ({LAYOUT})")
        if student.name in ASSIGNMENTS:
            raise UsageError(f"{student} is an assignment folder where a student folder belongs ({LAYOUT})")
        stray = _notebooks(student)
        if stray:
            raise UsageError(f"{stray[0]} is not inside an assignment folder ({LAYOUT})")
        for folder in (p for p in _visible(student) if p.is_dir()):
            if folder.is_symlink():
                raise UsageError(f"{folder} is a link to another folder, not the student's own ({LAYOUT})")
            if folder.name not in ASSIGNMENTS:
                close = difflib.get_close_matches(folder.name, ASSIGNMENTS, n=1)
                hint = f" (did you mean {close[0]}?)" if close else f"; the assignments are {', '.join(ASSIGNMENTS)}"
                raise UsageError(f"{folder} is not an assignment of this course{hint}")
            notebooks = _notebooks(folder)
            if len(notebooks) > 1:
                names = ", ".join(p.name for p in notebooks)
                raise UsageError(f"{folder} holds {len(notebooks)} notebooks ({names}); keep the one to grade")
            if notebooks and notebooks[0].stem in ASSIGNMENTS and notebooks[0].stem != folder.name:
                other = notebooks[0].stem
                raise UsageError(
                    f"{notebooks[0]} is the notebook of {other}, not of {folder.name}; move it to {other}/"
                )
            found.append(Submission(student.name, folder.name, notebooks[0] if notebooks else None, folder))
    handed_in = {s.assignment for s in found if s.path is not None}
    if not handed_in:
        raise UsageError(f"no submission found in {submitted} (nbgrader's layout: {LAYOUT})")
    have = {s.key for s in found}
    for student in students:
        for assignment in sorted(handed_in):
            if (student.name, assignment) not in have:
                found.append(Submission(student.name, assignment, None, student / assignment))
    return sorted((s for s in found if s.assignment in handed_in or s.path is not None), key=lambda s: s.key)


def _missing_reason(sub):
    return f"no notebook in {sub.folder}" if sub.folder.is_dir() else f"no folder {sub.folder}"


# -- options ----------------------------------------------------------------------------


def check_out(out, submitted):
    """``UsageError`` unless ``out`` is a new file or a CSV this command wrote (its header says so)."""
    out = Path(out)
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; give a CSV file name")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    if Path(submitted).resolve() in out.resolve().parents:
        raise UsageError(f"--out {out} is inside {submitted}, where only submissions belong")
    if out.exists() or out.is_symlink():
        try:
            with open(out, newline="", encoding="utf-8") as f:
                header = next(csv.reader([f.readline(4096)]), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            header = []
        if tuple(header) != HEADER:
            raise UsageError(
                f"{out} exists and is not a CSV written by grade-class, so it is not replaced; choose --out"
            )
    return out


def scheduler_address(text):
    """argparse type of ``--scheduler``: ``local:N``, ``SCHEME://HOST:PORT`` or ``HOST:PORT``."""
    import argparse

    local = re.fullmatch(r"local:(\d+)", text)
    if local and int(local[1]) >= 1:
        return text
    if not text.startswith("local:") and re.fullmatch(
        r"((tcp|tls|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}", text
    ):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a Dask scheduler address (tcp://HOST:PORT, HOST:PORT, or local:N for N local workers)"
    )


# -- signals ----------------------------------------------------------------------------


class Interrupts:
    """SIGINT and SIGTERM as exceptions (``KeyboardInterrupt``, ``Terminated``), held back inside ``held()``.

    Saving one result touches four files; an interrupt in the middle would
    leave them disagreeing, so it waits until the result is saved.

    A handler that raises where CPython cannot pass exceptions on (a
    finalizer, an at-fork hook) has its exception printed as "ignored" and
    dropped; such a one is kept instead, silently, and raised when the next
    held block ends (the next result saved).
    """

    def __init__(self):
        self._depth, self._pending, self._saved, self._done = 0, None, {}, False
        self._raised, self._hook = None, None

    def __enter__(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._saved[signum] = signal.signal(signum, self._handle)
        self._hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def __exit__(self, *exc):
        if not self._done:
            for signum, handler in self._saved.items():
                signal.signal(signum, handler)
        sys.unraisablehook = self._hook

    @staticmethod
    def _exception(signum):
        return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()

    def _handle(self, signum, frame):
        if self._depth:
            self._pending = self._pending or signum
            return
        self._raised = (self._exception(signum), signum)
        raise self._raised[0]

    def _unraisable(self, unraisable):
        if self._raised and unraisable.exc_value is self._raised[0]:  # ours, dropped: raised again later
            self._pending = self._pending or self._raised[1]
            return
        self._hook(unraisable)

    def ignore(self):
        """From now on (the run is stopping), a second Ctrl-C or SIGTERM must not cut the clean-up short."""
        for signum in self._saved:
            signal.signal(signum, signal.SIG_IGN)

    def done(self):
        """Everything is saved and the command is ending: a signal now ends the process at once, with its status."""
        self._done = True
        sys.stdout.flush()  # what was said is said before any signal can end the process
        sys.stderr.flush()
        for signum in self._saved:
            signal.signal(signum, lambda signum, frame: os._exit(128 + signum))

    @contextlib.contextmanager
    def held(self):
        """Run the block to its end whatever signal comes; raise it afterwards."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self._pending:
                signum, self._pending = self._pending, None
                raise self._exception(signum)


def stop_children(grace=5.0):
    """Stop every process this one started (workers, their kernels): SIGTERM, then SIGKILL after ``grace``.

    Exited children are left for their owner to reap (the process pool waits
    for its workers; a worker reaped behind its back would count as alive for
    ever), so "gone" means exited, zombie or not.
    """
    import psutil

    def gone(p):
        try:
            return p.status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True

    def wait(procs):
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not all(gone(p) for p in procs):
            time.sleep(0.05)

    me = psutil.Process()
    everyone, direct = me.children(recursive=True), me.children()
    for p in direct:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    wait(direct)
    rest = [p for p in everyone if not gone(p)]
    for p in rest:
        with contextlib.suppress(psutil.Error):
            p.kill()
    wait(rest)


# -- one task ------------------------------------------------------------------------------


def grade_task(data, path, assignment, limits, expected):
    """One task: grade a submission's bytes (or the reason they could not be read) as ``assignment``.

    ``expected`` is the instructor's ``material.material()``; a worker whose
    own material differs refuses, returning ``{"refused": why}``. Otherwise it
    returns the notebook entry (plain data), plus the graded notebook under
    ``"notebook"`` and ``results.read_summary`` of the bytes under ``"read"``.
    Runs in a worker process (local pool or Dask worker) and needs only the
    installed package.
    """
    from .grade import grade_one
    from .material import differences, material

    differ = differences(material(), expected)
    if differ:
        return {
            "refused": f"its grading material differs from this course's ({', '.join(differ)})",
            "by": _worker_name(),
        }
    for _ in range(AST_RACE_TRIES):
        other = _other_assignment(data, assignment)
        if other:
            from .grade import ungraded

            why = f"{Path(path).name} is the notebook of {other}, not of {assignment}"
            entry = ungraded(path, assignment, "invalid", why)
        else:
            entry = grade_one((path, data), limits, assignment, keep_notebook=True)
        if AST_RACE not in str(entry.get("error")):
            break
    return entry | {"read": results.read_summary(data)}


def _other_assignment(data, assignment):
    """The assignment a notebook's cells say it is, when that is another one than its folder's (else None)."""
    from .course import identify
    from .grade import Invalid, read_notebook

    if not isinstance(data, bytes):
        return None
    try:
        found = identify(read_notebook(data))
    except (Invalid, SystemError):
        return None  # grading says why, in the same words as nnbasics grade (and meets the AST race again)
    return found if found not in (None, assignment) else None


def _worker_name():
    try:
        from distributed import get_worker

        return f"the Dask worker {get_worker().address}"
    except (ImportError, ValueError):
        return f"the local worker {os.getpid()}"


_WORKER = {"busy": False, "stopping": False}  # this worker process's state, for its SIGTERM handler


def _worker_start(run):
    from .grade import adopt_run_folder, release_held_signals

    adopt_run_folder(run)
    # Ctrl-C in a terminal reaches every process of the group: only the command decides, and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)
    release_held_signals()  # held while the pool forked it (_run_local): a SIGTERM that came meanwhile is taken now


def _worker_stop(signum, frame):
    """SIGTERM from the command: kill the kernel if busy, so the grading ends and cleans up; never leave at once.

    An idle worker may be sending its last result: a message cut short would
    leave the pool's reader (and the command, which waits for it at exit)
    waiting for the rest for ever. It leaves when its next task starts, or
    when the pool's shutdown reaches it.
    """
    import psutil

    _WORKER["stopping"] = True
    if not _WORKER["busy"]:
        return
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()


def _local_task(path, within, *args):
    """A local worker's task: it reads the file itself, so only a path crosses the pool's pipe.

    (A pipe full of notebooks would block the pool's feeder thread for good once its workers are stopped.)
    """
    _WORKER["busy"] = True  # first: a SIGTERM that came before is seen below, one that comes after finds it busy
    try:
        if not _WORKER["stopping"]:
            return grade_task(read_submission(path, within=within), str(path), *args)
    finally:
        _WORKER["busy"] = False
        if _WORKER["stopping"]:  # the kernel is shut down and its folders are gone by now (grade's finally)
            os._exit(128 + signal.SIGTERM)


def _crashed(task, why):
    from .grade import ungraded

    return ungraded(str(task.sub.path), task.sub.assignment, "crashed", why)


@dataclass
class Task:
    """A submission to grade; ``data`` (its bytes, or why they cannot be read) is read only when it is sent."""

    sub: Submission
    data: bytes | str | None = None
    tries: int = 0

    @property
    def within(self):
        """The folder the submission must not leave through a link: the student's own."""
        return self.sub.folder.parent

    def load(self):
        self.data = read_submission(self.sub.path, within=self.within)
        return self.data


# -- where the tasks run ---------------------------------------------------------------------
# At most a window of submissions is in memory at once, however large the class.


def run_local(tasks, jobs, limits, expected, on_result):
    """Run tasks on ``jobs`` local worker processes, calling ``on_result(task, result)`` as each ends.

    A worker that dies costs its tasks a retry (``MAX_TRIES`` in all), never the batch; what it left in the
    batch's folder (``grade.run_folder``) goes with the batch.
    """
    from .grade import run_folder

    with run_folder() as run:
        _run_local(tasks, jobs, limits, expected, on_result, run)


def _run_local(tasks, jobs, limits, expected, on_result, run):
    from .grade import signals_held

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    queue = list(tasks)
    while queue:
        pool = ProcessPoolExecutor(
            jobs, mp_context=multiprocessing.get_context(method), initializer=_worker_start, initargs=(run,)
        )
        running = {}
        try:
            while queue or running:
                while queue and len(running) < 2 * jobs:
                    task = queue.pop(0)
                    args = (task.sub.path, task.within, task.sub.assignment, limits, expected)
                    # A pool forks its workers in its first submit. A Ctrl-C during the fork would run our handler
                    # in the parent's at-fork hooks, whose exceptions CPython prints and drops: it waits till after.
                    with signals_held():
                        running[pool.submit(_local_task, *args)] = task
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    on_result(task, future.result())
        except BrokenProcessPool:
            for task in running.values():
                task.tries += 1
                if task.tries >= MAX_TRIES:
                    on_result(task, _crashed(task, "its grading process died repeatedly"))
                else:
                    queue.insert(0, task)
            pool.shutdown(wait=False, cancel_futures=True)
        except BaseException:  # Ctrl-C, SIGTERM: stop the workers (and their kernels), then wait for the pool's end
            pool.shutdown(wait=False, cancel_futures=True)
            with signals_held():
                stop_children()
                # Its manager thread closes its wake-up pipe now, not while the interpreter's exit hook writes to it:
                # on Python 3.11 that race printed a traceback (OSError: Bad file descriptor) after the stop's line.
                pool.shutdown()
            raise
        else:
            pool.shutdown()


@contextlib.contextmanager
def dask_client(address):
    """A ``distributed.Client`` on ``address`` (``local:N`` starts a LocalCluster of N workers on 127.0.0.1)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'nnbasics[dask]'") from None
    cluster = None
    try:
        if address.startswith("local:"):
            cluster = LocalCluster(
                n_workers=int(address.split(":", 1)[1]),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            )
            address = cluster.scheduler_address
            print(f"Dask dashboard: {cluster.dashboard_link}", file=sys.stderr)
        try:
            client = Client(address, timeout="15s")
        except (OSError, TimeoutError) as e:
            raise UsageError(f"cannot reach the Dask scheduler at {address} ({type(e).__name__})") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                raise UsageError(f"no Dask worker joined the scheduler at {address} within 60 s") from None
            yield client
    finally:
        if cluster is not None:
            cluster.close()


def run_dask(client, tasks, limits, expected, on_result, window=None):
    """Run tasks on a Dask cluster through ``client``, calling ``on_result(task, result)`` as each ends.

    The scheduler retries a task whose worker died; after its allowed failures
    the task raises ``KilledWorker`` and the submission is reported crashed.
    """
    from distributed import as_completed

    window = window or 4 * max(1, sum(client.nthreads().values()))
    queue, running, pending = list(tasks), {}, as_completed()

    def send(task):
        key = f"grade-{task.sub.student}-{task.sub.assignment}-{uuid.uuid4().hex}"
        args = (task.load(), str(task.sub.path), task.sub.assignment, limits, expected)
        task.data = None  # the worker sends back what the journal keeps of it
        future = client.submit(grade_task, *args, key=key)
        running[future] = task
        pending.add(future)

    for _ in range(min(window, len(queue))):
        send(queue.pop(0))
    for future in pending:
        task = running.pop(future)
        try:
            result = future.result()
        except Exception as e:  # KilledWorker after the allowed failures, or a lost connection
            result = _crashed(task, f"its grading worker died repeatedly ({type(e).__name__})")
        on_result(task, result)
        if queue:
            send(queue.pop(0))


# -- the results -----------------------------------------------------------------------------


def _atomic_write(path, write):
    """Write the text file ``path`` through a temporary file beside it, flushed to disk, then renamed over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def csv_rows(subs, journal):
    """The CSV rows (dicts with ``HEADER``): one per submission graded so far and one per missing one."""
    from .gradebook import points

    rows = []
    for sub in subs:
        full = f"{sum(points(sub.assignment).values()):g}"
        if sub.path is None:
            rows.append(dict.fromkeys(HEADER, "") | {"status": "missing", "reason": _missing_reason(sub)})
            rows[-1].update(student_id=sub.student, assignment=sub.assignment, max_score=full)
            continue
        rec = journal.get(sub.key)
        if rec is None:
            continue  # not graded yet (interrupted, or outside --student/--assignment)
        entry = rec["entry"]
        graded = entry["status"] == "graded"
        rows.append(
            {
                "student_id": sub.student,
                "assignment": sub.assignment,
                "status": entry["status"],
                "score": f"{float(entry['score']):g}" if graded else "",
                "max_score": f"{float(entry['max_score'] or full):g}",
                "reason": "" if graded else (entry.get("error") or ""),
                "graded_at": rec["graded_at"],
                "notebook_sha256": rec["notebook_sha256"],
            }
        )
    return rows


def write_csv(path, rows):
    """Write the CSV atomically (a reader, or an interrupt, never sees half of it)."""

    def write(f):
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)

    _atomic_write(path, write)


def _timestamp(folder):
    """The submission time nbgrader's collect wrote in ``timestamp.txt`` (None without one), as nbgrader reads it."""
    from nbgrader.utils import parse_utc

    try:
        text = (Path(folder) / "timestamp.txt").read_text(encoding="utf-8").strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError, UnicodeDecodeError, OverflowError):
        return None


def sync_gradebook(gb, rec, timestamp):
    """Make the gradebook hold ``rec`` (a journal record) as SaveAutoGrades would; True if anything changed.

    A graded test keeps its score; a submission that could not be graded gets
    no score (not 0), "needs manual grade", and its reason as the comment on
    every answer cell, where formgrader shows it. A graded submission's
    answer cells carry the feedback of their failed test. Manual scores an
    instructor gave stay, and keep the submission flagged for review.
    """
    from nbgrader.api import MissingEntry

    student, assignment, entry = rec["student_id"], rec["assignment"], rec["entry"]
    graded = entry["status"] == "graded"
    changed = False
    try:
        submission = gb.find_submission(assignment, student)
        if submission.timestamp != timestamp:
            submission.timestamp, changed = timestamp, True
    except MissingEntry:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student, timestamp=timestamp)
        changed = True
    notebook = gb.find_submission_notebook(assignment, assignment, student)
    tests = {t["grade_id"]: t for t in entry["tests"]}
    for grade in notebook.grades:
        test = tests.get(grade.name)
        want = (float(test["score"]) if test else 0.0) if graded else None
        review = not graded or grade.manual_score is not None
        if grade.auto_score != want or grade.needs_manual_grade != review:
            grade.auto_score, grade.needs_manual_grade, changed = want, review, True
    reason = None if graded else f"Not graded ({entry['status']}): {entry.get('error')}"
    for comment in notebook.comments:
        test = tests.get(f"test_{comment.name}") or {}
        want = reason if not graded else (None if test.get("passed", True) else test.get("feedback"))
        if comment.auto_comment != want:
            comment.auto_comment, changed = want, True
    if changed:
        gb.db.commit()
    return changed


@dataclass
class ClassRun:
    """The state of one ``grade-class`` run and the writing of every result (``save``)."""

    root: Path
    subs: list
    out: Path
    feedback: bool
    fingerprint: str
    journal: dict
    gb: object = None
    graded: int = 0
    refused: dict = field(default_factory=dict)  # reason -> [submission names]

    def autograded(self, sub):
        return self.root / "autograded" / sub.student / sub.assignment / f"{sub.assignment}.ipynb"

    def feedback_page(self, sub):
        return self.root / "feedback" / sub.student / sub.assignment / f"{sub.assignment}.html"

    def save(self, task, entry):
        """Write one result: autograded notebook, journal (the commit point), gradebook, feedback, CSV."""
        sub = task.sub
        if "refused" in entry:  # reported, not graded: the next run (with a right worker) grades it
            self.refused.setdefault(f"{entry['by']} refused it: {entry['refused']}", []).append(sub.name)
            return
        notebook, summary = entry.pop("notebook", None), entry.pop("read", None)
        if summary is None:  # graded here (unreadable), or its worker died: the bytes are read here
            summary = results.read_summary(task.data if task.data is not None else task.load())
        if notebook is not None:
            _atomic_write(self.autograded(sub), lambda f: f.write(notebook))
        else:  # now unreadable: an earlier version's notebook and page would show what is no longer graded
            self.autograded(sub).unlink(missing_ok=True)
            self.feedback_page(sub).unlink(missing_ok=True)
        rec = results.record(sub.student, sub.assignment, None, entry, self.fingerprint, summary)
        rec["autograded"] = notebook is not None
        task.data = None
        results.append(self.root, rec)
        self.journal[sub.key] = rec
        self.graded += 1
        self.publish(sub, rec, fresh=True)
        self.write_csv()

    def publish(self, sub, rec, fresh=False):
        """Bring the gradebook and the feedback page of ``sub`` in line with its record; True if it changed any.

        ``fresh``: the record was just written, so an existing page is out of
        date; otherwise a page is written only when missing (with ``--feedback``)
        or older than the graded notebook.
        """
        changed = sync_gradebook(self.gb, rec, _timestamp(sub.folder))
        page, graded_nb = self.feedback_page(sub), self.autograded(sub)
        if not (rec.get("autograded") and graded_nb.exists()):
            return changed
        if page.exists():
            due = fresh or page.stat().st_mtime < graded_nb.stat().st_mtime
        else:
            due = self.feedback
        if due:
            self.write_feedback(sub, graded_nb, page)
        return changed or due

    def write_feedback(self, sub, graded_nb, page):
        import nbformat

        from .feedback import write_feedback_html

        nb = nbformat.read(graded_nb, as_version=4)
        info = {"assignment": sub.assignment, "notebook": sub.assignment, "student": sub.student}
        resources = {"nbgrader": info | {"db_url": f"sqlite:///{self.root / 'gradebook.db'}"}}
        write_feedback_html(nb, resources, page)

    def write_csv(self):
        write_csv(self.out, csv_rows(self.subs, self.journal))

    def plan(self, force, students, assignments):
        """Split the submissions into (tasks to grade, submissions kept as graded).

        A submission is regraded when its bytes (sha256) or the grading
        material changed since its journal record, or its autograded notebook
        is gone; ``--student``/``--assignment`` restrict what is regraded.
        Only the reason of an unreadable file is kept, never the bytes.
        """
        todo, kept = [], []
        for sub in self.subs:
            if sub.path is None:
                continue
            selected = (not students or sub.student in students) and (not assignments or sub.assignment in assignments)
            data = read_submission(sub.path, within=sub.folder.parent)
            sha = hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else ""
            rec = self.journal.get(sub.key)
            fresh = (
                rec is not None
                and rec["notebook_sha256"] == sha
                and rec["fingerprint"] == self.fingerprint
                and (not rec.get("autograded") or self.autograded(sub).exists())
            )
            if selected and (force or not fresh):
                todo.append(Task(sub, None if isinstance(data, bytes) else data))
            elif rec is not None:
                kept.append(sub)
        return todo, kept


def open_gradebook(root):
    """The course's gradebook, holding this course's five assignments (made atomically if there is none).

    A gradebook whose copy of an assignment predates an edit of the course is
    brought up to date; ``UsageError`` when nbgrader cannot (cells added or
    removed while graded submissions hold the old ones).
    """
    from nbgrader.api import Gradebook

    from .course import source_notebook
    from .gradebook import STUDENT, ensure_course, template_gradebook
    from .material import gradebook_differences, refresh

    db = root / "gradebook.db"
    if not db.exists():  # the grader's template (the five assignments), without its one learner
        tmp = root / f".gradebook.db.{os.getpid()}.tmp"
        shutil.copyfile(template_gradebook(), tmp)
        with Gradebook(f"sqlite:///{tmp}") as gb:
            gb.remove_student(STUDENT)
        os.replace(tmp, db)
    url = f"sqlite:///{db}"
    ensure_course(url)  # one made by nbgrader generate_assignment may lack some assignments
    with Gradebook(url) as gb:
        stale = [a for a in ASSIGNMENTS if gradebook_differences(gb, a)]
    for assignment in stale:
        try:
            refresh(url, assignment, source_notebook(assignment))
        except RuntimeError:
            raise UsageError(
                f"{db} holds {assignment} with other cells than the course's and graded submissions of it; "
                "move it away to start a new gradebook (and regrade with --force)"
            ) from None
    return Gradebook(url)


# -- the command ------------------------------------------------------------------------------


def grade_class_command(args):
    """Run ``nnbasics grade-class``; returns the exit status (0 all graded, 1 some not, 2 usage, 130/143 signal)."""
    with Interrupts() as interrupts:
        try:
            return _grade_class(args, interrupts)
        except UsageError as e:
            print(f"nnbasics grade-class: error: {e}", file=sys.stderr)
            return USAGE
        except KeyboardInterrupt as e:
            interrupts.ignore()
            stop_children()  # no worker (nor its kernel) outlives this command
            signame, signum = ("SIGTERM", signal.SIGTERM) if isinstance(e, Terminated) else ("SIGINT", signal.SIGINT)
            print(
                f"nnbasics grade-class: interrupted ({signame}); {e.args[0] if e.args else 'nothing was graded'}; "
                "run it again to grade the rest",
                file=sys.stderr,
            )
            return 128 + signum
        finally:
            interrupts.done()


def _grade_class(args, interrupts):
    from .material import fingerprint, material

    submitted = Path(args.submitted)
    subs = scan(submitted)
    out = check_out(args.out, submitted)
    known = {s.student for s in subs}
    unknown = [s for s in args.student or [] if s not in known]
    if unknown:
        raise UsageError(f"no student folder {unknown[0]!r} in {submitted}")
    root = submitted.resolve().parent
    limits = Limits(args.timeout, args.notebook_timeout, args.memory, args.max_output)
    expected = material()
    run = ClassRun(root, subs, out, args.feedback, fingerprint(expected), results.load(root))
    todo, kept = run.plan(args.force, args.student, args.assignment)

    from .gradebook import template_gradebook

    try:
        template_gradebook()  # built (or found) before the workers fork, so they share it
        with contextlib.ExitStack() as stack:
            client = stack.enter_context(dask_client(args.scheduler)) if args.scheduler else None
            with interrupts.held():
                run.gb = stack.enter_context(open_gradebook(root))
                repaired = sum(run.publish(s, run.journal[s.key]) for s in kept)
                run.write_csv()
            if repaired:
                print(f"repaired the gradebook or feedback of {repaired} submission(s) from the journal")
            _grade(run, todo, client, limits, expected, args.jobs or os.cpu_count() or 1, interrupts)
    except KeyboardInterrupt as e:
        raise type(e)(f"{run.graded} submission(s) graded and saved") from None
    return _summary(run, kept)


def _grade(run, todo, client, limits, expected, jobs, interrupts):
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        bar = progress.add_task("grading", total=len(todo))

        def on_result(task, entry):
            with interrupts.held():
                run.save(task, entry)
            progress.advance(bar)

        unreadable = [t for t in todo if isinstance(t.data, str)]
        rest = [t for t in todo if t.data is None]
        for task in unreadable:  # a file that cannot be read (a FIFO, a link out of its folder) is invalid at once
            on_result(task, _invalid(task))
        if client is not None:
            run_dask(client, rest, limits, expected, on_result)
        elif rest:
            run_local(rest, jobs, limits, expected, on_result)


def _invalid(task):
    from .grade import ungraded

    return ungraded(str(task.sub.path), task.sub.assignment, "invalid", task.data)


def _summary(run, kept):
    rows = csv_rows(run.subs, run.journal)
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(f"{row['student_id']}/{row['assignment']}")
    for why, names in run.refused.items():
        print(f"nnbasics grade-class: not graded: {', '.join(names)}: {why}", file=sys.stderr)
    counts = ", ".join(
        f"{len(by_status[s])} {s}" for s in ("graded", "crashed", "invalid", "missing") if s in by_status
    )
    refused = sum(len(n) for n in run.refused.values())
    line = (
        f"graded {run.graded} submission(s) ({len(kept)} kept from earlier runs"
        + (f", {refused} refused by their worker" if refused else "")
        + f"); {len(rows)} row(s) in {run.out}: {counts}; gradebook {run.root / 'gradebook.db'}"
    )
    bad = [f"{n} ({s})" for s in ("crashed", "invalid", "missing") for n in by_status.get(s, [])]
    bad += [f"{n} (refused)" for names in run.refused.values() for n in names]
    if bad:
        line += f"; not graded: {', '.join(bad)}"
    print(line)
    failed = refused or any(by_status.get(s) for s in ("crashed", "invalid"))
    return NOT_ALL_GRADED if failed else ALL_GRADED
