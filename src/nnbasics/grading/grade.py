"""Grade learner notebooks through nbgrader's autograde pipeline, each in a private course.

``grade(data, path, limits)`` takes a notebook's bytes (the learner's file is
only ever read) and returns its entry of ``nnbasics grade --json`` (see
CONTRIBUTING.md): status ``graded``, ``invalid`` or ``crashed``, the score
and one record per test. Each call gets its own temporary course: a copy of a
gradebook that already holds the five assignments (``gradebook.py``), and the
sandboxed kernel's own directory (holding only its connection file and what
it runs at boot), which is all that kernel can see.

``grade_all`` grades several notebooks side by side (``nnbasics grade`` with
many files); ``grade_one`` never raises, so a grader fault is still a result,
and one that names the notebook's assignment and what it was out of.

What the grader holds is bounded by the notebook's size (at most
``inputs.MAX_NOTEBOOK_BYTES``) and the bounds of ``limits.py``: the file is
parsed once, after its cells and JSON values were counted on its bytes, and
its saved outputs are dropped before the notebook is built (nbgrader's
ClearOutput would drop them anyway). The notebook time limit starts when
``grade`` does.
"""

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from time import monotonic

from ..assignments import ASSIGNMENTS
from . import kernel
from .inputs import MAX_NOTEBOOK_BYTES
from .limits import (
    MAX_CELLS,
    MAX_CODE_CELL_CHARS,
    MAX_JSON_VALUES,
    Limits,
    as_config,
    bounded_text,
    may_hold_surrogates,
    utf8_text,
    utf8_tree,
)

# nbgrader (in pipeline, steps, gradebook, feedback) takes about a second to import: those modules are
# imported inside the functions, so that `grade_all` launches the kernels first and they boot meanwhile.

# nbgrader's own gradebook code trips this SQLAlchemy warning on every submission (harmless, known upstream)
warnings.filterwarnings("ignore", message="Object of type <Submitted")


class Invalid(Exception):
    """The input is not a gradable notebook of this course; the message says why in one sentence."""


# -- parsing the learner's file ---------------------------------------------------


def read_notebook(data, name="the notebook"):
    """Parse notebook bytes into an nbformat v4 node, or raise ``Invalid`` with the reason.

    Its size, cells and JSON values are checked on the bytes first, so that
    nothing larger than ``limits.py`` allows is ever parsed; saved outputs
    are dropped before the notebook is built, and lone surrogates (a JSON
    ``\\ud83d`` escape) become their escape text, so that every string can be
    sent to the kernel and written as UTF-8.
    """
    import nbformat  # here, not at the top: `grade_all` launches the kernels before this import

    if not data or data.isspace():  # (strip() would copy up to 64 MiB)
        raise Invalid(f"{name} is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise Invalid(f"{name} is {len(data) >> 20} MiB, too large for an exercise notebook (clear its outputs)")
    cells = data.count(b'"cell_type"')  # at least the number of cells
    if cells > MAX_CELLS:
        raise Invalid(f"{name} has {cells} cells, more than the {MAX_CELLS} an exercise notebook may have")
    if data.count(b",") + data.count(b"{") + data.count(b"[") > MAX_JSON_VALUES:  # at least the values, less one
        raise Invalid(f"{name} holds more data than an exercise notebook may (over {MAX_JSON_VALUES} JSON values)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(f"{name} is not a text file, so it cannot be a notebook") from None
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise Invalid(f"{name} is not a notebook: it is not valid JSON") from None
    del text
    if not isinstance(raw, dict) or "nbformat" not in raw or not isinstance(raw.get("nbformat"), int):
        raise Invalid(f"{name} is JSON but not a Jupyter notebook")
    if raw["nbformat"] < 3:  # v3 converts to v4 faithfully; older formats lack the cell metadata
        raise Invalid(f"{name} uses notebook format v{raw['nbformat']}, too old to grade; save it again in Jupyter")
    if may_hold_surrogates(data):
        raw = utf8_tree(raw)
    _clear_outputs(raw, name)
    try:
        version = nbformat.versions[raw["nbformat"]]
        nb = nbformat.convert(version.to_notebook_json(raw, minor=raw.get("nbformat_minor")), 4)
    except Exception as e:  # nbformat raises many kinds for broken structure
        raise Invalid(f"{name} is not a valid notebook ({type(e).__name__})") from None
    if not isinstance(nb.get("cells"), list):
        raise Invalid(f"{name} is not a valid notebook (it has no cells)")
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as e:  # as nbformat.reads does: logged, and graded all the same
        nbformat.reader.get_logger().error("Notebook JSON is invalid: %s", e)
    except Exception as e:
        raise Invalid(f"{name} is not a valid notebook ({type(e).__name__})") from None
    return nb


def _clear_outputs(raw, name):
    """Drop the saved outputs of every code cell (v4 or v3 layout), and refuse a code cell that is too large."""
    worksheets = raw.get("worksheets") if raw.get("nbformat") == 3 else [raw]
    for sheet in worksheets if isinstance(worksheets, list) else []:
        cells = sheet.get("cells") if isinstance(sheet, dict) else None
        cells = cells if isinstance(cells, list) else []
        if len(cells) > MAX_CELLS:  # the count on the bytes misses a key written with escapes
            raise Invalid(f"{name} has {len(cells)} cells, more than the {MAX_CELLS} an exercise notebook may have")
        for i, cell in enumerate(cells):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            if isinstance(cell.get("outputs"), list):
                cell["outputs"] = []
            source = cell.get("source", cell.get("input", ""))
            size = len(source) if isinstance(source, str) else sum(len(s) for s in source if isinstance(s, str))
            if size > MAX_CODE_CELL_CHARS:
                raise Invalid(
                    f"cell {i + 1} of {name} holds {size >> 10} KiB of code, more than the "
                    f"{MAX_CODE_CELL_CHARS >> 10} KiB a cell may have"
                )


# -- the notebook entry --------------------------------------------------------------


def _test_record(gid, score, max_score, feedback):
    feedback = None if feedback is None else bounded_text(feedback)
    return {"grade_id": gid, "score": score, "max_score": max_score, "passed": score >= max_score, "feedback": feedback}


def _entry(path, assignment, status, error, tests):
    from .gradebook import points

    known = assignment in ASSIGNMENTS
    return {
        "path": utf8_text(path),  # a file name with undecodable bytes still prints
        "assignment": assignment,
        "status": status,
        "error": None if error is None else bounded_text(error),
        "score": float(sum(t["score"] for t in tests)),
        # an ungradable file of a known assignment still shows what it was out of
        "max_score": float(sum(t["max_score"] for t in tests) or (sum(points(assignment).values()) if known else 0)),
        "tests": tests,
    }


def ungraded(path, assignment, status, error):
    """The entry of a notebook that could not be graded (``invalid`` or ``crashed``), with the reason."""
    return _entry(str(path), assignment, status, error, [])


def _crashed(path, assignment, error):
    """A ``crashed`` entry: every test of ``assignment`` counts 0 and says why."""
    from .course import test_ids
    from .gradebook import points

    reason = f"not graded: {error}"
    tests = [_test_record(gid, 0.0, points(assignment)[gid], reason) for gid in test_ids(assignment)]
    return _entry(str(path), assignment, "crashed", error, tests)


def _graded_tests(assignment, resources):
    """One record per test: the score SaveAutoGrades recorded, and what the learner should read."""
    from .course import test_ids
    from .gradebook import points, scores
    from .steps import state

    graded, got = state(resources), scores(resources["nbgrader"]["db_url"], assignment)
    tests = []
    for gid in test_ids(assignment):
        notes = [n for n in (graded.notes.get(gid), graded.verdicts.get(gid)) if n]
        tests.append(_test_record(gid, got.get(gid, 0.0), points(assignment)[gid], " ".join(notes) or None))
    return tests


# -- grading -----------------------------------------------------------------------------


def grade(data, path, limits=None, assignment=None, html_dir=None, adopt=None, keep_notebook=False):
    """Grade a notebook given as bytes; ``path`` is only used to name it.

    ``adopt`` is ``(kernel_dir, pid)`` of a kernel that the parent process
    launched ahead (``kernel.launch_ahead``) with the same limits; without
    it, a kernel is launched here, before the notebook is sanitized, so that
    it boots meanwhile. ``assignment`` forces which exercise the notebook is
    graded as; a notebook that is plainly another one is ``invalid``. With
    ``keep_notebook`` the entry also holds, under ``"notebook"``, the graded
    notebook as JSON text (the sanitized one when it crashed), for nbgrader's
    ``autograded/`` folder.

    Returns
    -------
    dict
        The notebook entry of ``nnbasics grade --json``.
    """
    started = monotonic()  # the notebook's time limit covers reading it too
    name, limits = Path(path).name, limits or Limits()
    from .course import evidence

    try:
        nb = read_notebook(data, name)
        scores = evidence(nb)
        found = max(scores, key=scores.get) if any(scores.values()) else None
        if assignment is None and found is None:
            raise Invalid(f"{name} is not one of this course's exercises ({', '.join(ASSIGNMENTS)})")
        if assignment is not None and found is not None and scores[found] > scores[assignment]:
            raise Invalid(f"{name} is the notebook of {found}, not of {assignment}")
    except Invalid as e:
        return ungraded(path, assignment, "invalid", str(e))
    assignment = assignment or found
    try:
        return _grade(nb, path, limits, assignment, html_dir, adopt, started, keep_notebook)
    except Exception as e:  # a grader fault: still this notebook's assignment, out of its points
        return _crashed(path, assignment, f"the grader failed on {name}: {type(e).__name__}: {e}")


def _grade(nb, path, limits, assignment, html_dir, adopt, started, keep_notebook=False):
    import nbformat

    from . import pipeline
    from .feedback import write_feedback_html
    from .gradebook import STUDENT, private_copy
    from .steps import LimitExceeded, state

    config = as_config(limits)
    if adopt:
        config = kernel.adoption_config(config, *adopt)
        km = kernel.SandboxKernelManager(config=config)  # adopts the kernel when the execute step starts it
    else:
        km = kernel.launch_ahead(config)
    try:
        with _private_folder() as course:
            resources = {
                "nbgrader": {"assignment": assignment, "notebook": assignment, "student": STUDENT},
                "metadata": {"path": course},
            }
            resources["nbgrader"]["db_url"] = private_copy(course)
            state(resources).start_clock(limits.notebook_timeout, started)
            kept = {}
            try:
                nb, resources = pipeline.sanitize(nb, resources, config)
                if keep_notebook:  # before the probes replace the tests: what an instructor reviews if it crashes
                    kept["notebook"] = nbformat.writes(nb)
                nb, resources = pipeline.autograde(nb, resources, config, km)
            except LimitExceeded as e:
                return _crashed(path, assignment, str(e)) | kept
            tests = _graded_tests(assignment, resources)
            if keep_notebook:
                kept["notebook"] = nbformat.writes(nb)
            if html_dir is not None:
                write_feedback_html(nb, resources, Path(html_dir) / f"{Path(path).stem}.html", tests)
    finally:
        with signals_held():  # a stop that comes now waits until the kernel is stopped
            kernel.shut_down(km)
    return _entry(str(path), assignment, "graded", None, tests) | kept


@contextlib.contextmanager
def _private_folder(prefix="nnbasics-grade-", parent=None):
    """A temporary folder, removed even when Ctrl+C or SIGTERM comes while it is made, used or removed.

    One notebook's private course goes in the run's folder (``run_folder``), if one is set.
    """
    folder = None
    try:
        with signals_held():  # a stop that comes once the folder exists finds it named, to be removed
            folder = tempfile.mkdtemp(prefix=prefix, dir=parent or _RUN["folder"])
        yield folder
    finally:
        if folder:
            with signals_held():  # a stop that comes during the removal waits until it is done
                shutil.rmtree(folder, ignore_errors=True)


_RUN = {"folder": None}  # the folder of the running batch's private courses (forked workers inherit it)


def adopt_run_folder(folder):
    """In a pool worker: make its private courses in its batch's folder (a spawned worker inherits nothing)."""
    _RUN["folder"] = folder


@contextlib.contextmanager
def run_folder():
    """One folder for a batch's private courses, made and removed by the batch's process.

    A worker killed before it removes its notebook's folder (SIGKILL once its
    grace is over, the out-of-memory killer) leaves nothing behind: the
    folder it was in goes with the batch.
    """
    with _private_folder("nnbasics-run-", tempfile.gettempdir()) as made:
        _RUN["folder"] = made
        try:
            yield made
        finally:
            _RUN["folder"] = None


def grade_one(item, limits, assignment=None, html_dir=None, adopt=None, keep_notebook=False):
    """Grade one ``(path, bytes or error message)`` item; never raises."""
    path, data = item
    if isinstance(data, str):  # the file could not be read: data is the reason
        return ungraded(path, assignment, "invalid", data)
    try:
        return grade(data, path, limits, assignment, html_dir, adopt, keep_notebook)
    except KeyboardInterrupt:
        # the run is stopping: nbclient's unfinished tasks would each be logged, traceback and all, by asyncio,
        # and each of its coroutines left unawaited would be warned about
        logging.getLogger("asyncio").disabled = True
        warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
        raise
    except Exception as e:  # a grader fault must still be one clear line, not a traceback
        return ungraded(path, assignment, "crashed", f"the grader failed on {Path(path).name}: {e}")


def _import_grading():
    """Import (and set up) once what grading needs, so that forked workers inherit it; then resume the collector.

    Each worker would otherwise import nbconvert and nbgrader's steps itself
    (most of a second of CPU each), configure SQLAlchemy's mappers again,
    build nbformat's schema validator (40 ms) and read the five source
    notebooks to tell which exercise its notebook is. One
    notebook graded here needs all of it too, and the modules that grading
    imports on first use (``encodings.utf_8_sig``, ``sqlite3``, the checks'
    ``numpy.random``): a worker imports nothing of its own. The cycle
    collector, if ``nnbasics grade`` paused it, resumes with all of that frozen.
    """
    import encodings.utf_8_sig  # noqa: F401
    import sqlite3  # noqa: F401

    import nbformat
    import numpy.random  # noqa: F401
    import sqlalchemy.dialects.sqlite  # noqa: F401  (imported by the first gradebook opened: 15 ms a worker)
    from sqlalchemy.orm import configure_mappers

    from .. import _fast_imports
    from . import feedback, pipeline  # noqa: F401
    from .course import graded_cells

    configure_mappers()
    nbformat.validate(nbformat.v4.new_notebook())  # builds (and caches) the validator of the current format
    for assignment in ASSIGNMENTS:  # which exercise a notebook is: every worker would parse all five
        graded_cells(assignment)
    _fast_imports.imports_done()


def grade_all(items, limits, assignment=None, html_dir=None, meanwhile=None):
    """Grade items side by side, one process each (forked after the imports); entries in order.

    The boxed kernels are launched first, so they boot while this process
    imports nbgrader. Processes rather than threads: grading is partly
    CPU-bound Python, and CPython 3.11's AST compiler is not thread-safe.
    ``meanwhile`` (no arguments) is called while the workers grade, for what
    would otherwise wait until they are done (the table's imports).
    """
    with run_folder() as run:  # removed once every worker is stopped, whatever became of them
        return _grade_all(items, limits, assignment, html_dir, run, meanwhile)


def _grade_all(items, limits, assignment, html_dir, run, meanwhile):
    config = as_config(limits)
    linux = sys.platform.startswith("linux")
    ahead = []
    try:
        for _, data in items:
            with signals_held():  # a kernel launched is in `ahead`, so that it is discarded, whenever the stop comes
                ahead.append(kernel.launch_ahead(config) if linux and not isinstance(data, str) else None)
        from .gradebook import template_gradebook

        template_gradebook()  # build (or find) it once, before the workers start
        _import_grading()
        adopt = [(km.kernel_dir, km.provisioner.pid) if km else None for km in ahead]
        # One worker more than cores: a core stays busy while a worker waits for its kernel, and a worker that goes
        # on to another notebook has its caches warm (its first notebook costs it a third more CPU). Measured on
        # 2 cores grading the five exercises: 3 workers took 0.89x the time of 5, 2 workers 1.02x that of 3.
        workers = min(len(items), (os.cpu_count() or 1) + 1)
        if workers <= 1:
            return [grade_one(item, limits, assignment, html_dir, a) for item, a in zip(items, adopt)]
        context = multiprocessing.get_context("fork" if linux else "spawn")
        global _FORKED_ITEMS
        _FORKED_ITEMS = items if linux else None  # forked workers read the notebooks' bytes from here
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(run,)
        ) as pool:
            # a forked worker inherits the bytes; sent through the pool, each would be copied twice more
            try:
                with signals_held():  # the pool forks its workers here: no handler may run in a half-made worker
                    futures = [
                        pool.submit(_grade_forked, k, limits, assignment, html_dir, a)
                        if linux
                        else pool.submit(_grade_in_worker, item, limits, assignment, html_dir, a)
                        for k, (item, a) in enumerate(zip(items, adopt))
                    ]
                if meanwhile:
                    meanwhile()
                # A notebook's kernel launched ahead is discarded as soon as its worker returned that notebook's
                # entry (the worker stopped the kernel; the rest is this process's, 10-20 ms each), not all at the end
                # of the run. A broken pool's workers may still be stopping theirs: those wait for the pool's end.
                kernels = {f: km for f, km in zip(futures, ahead) if km}
                for done in as_completed(kernels):
                    if not done.cancelled() and done.exception() is None:
                        _discard_all([kernels[done]])
                return [_outcome(f, path, assignment) for f, (path, _) in zip(futures, items)]
            except KeyboardInterrupt:  # Ctrl+C, or SIGTERM (to this process only): stop the workers too
                pool.shutdown(wait=False, cancel_futures=True)
                _stop_workers(multiprocessing.active_children())
                raise
    finally:
        _FORKED_ITEMS = None
        _discard_all(filter(None, ahead))


KILLED = (
    "the grading stopped: one of its processes was killed from outside (by the system's out-of-memory killer?);"
    " grade it again"
)


def _outcome(future, path, assignment):
    """A worker's entry; a worker killed from outside (SIGKILL) breaks the pool: each notebook not done says so."""
    try:
        return future.result()
    except BrokenProcessPool:
        return ungraded(path, assignment, "crashed", KILLED)


def _discard_all(kms):
    """Discard every kernel launched ahead; a Ctrl+C or SIGTERM that comes meanwhile is taken once all are gone."""
    with signals_held():
        for km in kms:
            kernel.discard(km)


_FORKED_ITEMS = None  # grade_all's items, while its forked workers run


WORKER_GRACE = 10.0  # seconds a stopped worker has to stop its kernel and remove its folders, before it is killed
_STOPS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)}


@contextlib.contextmanager
def signals_held():
    """Hold Ctrl+C and SIGTERM back (POSIX) through a step that must not be cut; they are taken when it ends.

    The steps: a pool forking its workers (a signal meanwhile would run the
    command's handler in a half-made worker, or in the parent's at-fork hooks,
    where CPython prints its exception as "ignored" and drops it: workers
    start with the signals held, and ``release_held_signals`` releases them once
    their own handlers are set), a kernel being launched or
    stopped, a private folder being removed. Processes started meanwhile
    inherit the held signals; the kernel's supervisor releases them.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)  # (held still, inside another hold)


def release_held_signals():
    """A forked worker's start, once its own handlers are set: take the signals held while it was forked."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


def _stop_workers(workers):
    """Stop the workers of an interrupted run: each ends its notebook as on Ctrl+C; one that hangs is killed."""
    for worker in workers:
        worker.terminate()  # SIGTERM: its kernel stopped, its folders removed (an idle one waits for the pool)
    deadline = monotonic() + WORKER_GRACE
    for worker in workers:
        worker.join(max(0.0, deadline - monotonic()))
        if worker.is_alive():
            worker.kill()
            worker.join(1.0)


def _start_worker(run):
    """A pool worker's start: its private courses go in its batch's folder (spawned, it inherits nothing); idle."""
    adopt_run_folder(run)
    _idle_worker()


def _idle_worker():
    """A pool worker between notebooks ignores SIGTERM and Ctrl+C: the pool's shutdown ends it.

    Forked workers would otherwise inherit the command's handlers, and one
    that had finished its notebook would print a traceback when stopped. Nor
    may SIGTERM end it: it may be sending its result, and a message cut short
    leaves the pool's reader (and the command, which waits for it at exit)
    waiting for the rest for ever.
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    release_held_signals()


def _grade_in_worker(item, limits, assignment, html_dir, adopt):
    """``grade_one`` in a pool worker: while it grades, SIGTERM and Ctrl+C stop it as they stop the command."""
    from .command import stop_on_sigterm

    stop_on_sigterm()  # its kernel is stopped and its folders removed (spawned workers inherit no handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return grade_one(item, limits, assignment, html_dir, adopt)
    finally:
        _idle_worker()


def _grade_forked(k, limits, assignment, html_dir, adopt):
    return _grade_in_worker(_FORKED_ITEMS[k], limits, assignment, html_dir, adopt)
