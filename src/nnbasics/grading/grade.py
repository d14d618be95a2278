"""Grade learner notebooks through nbgrader's autograde pipeline, each in a private course.

``grade(data, path, limits)`` takes a notebook's bytes (the learner's file is
only ever read) and returns its entry of ``nnbasics grade --json`` (see
CONTRIBUTING.md): status ``graded``, ``invalid`` or ``crashed``, the score
and one record per test. Each call gets its own temporary course: a copy of a
gradebook that already holds the five assignments (``gradebook.py``), and the
sandboxed kernel's own empty directory, which is all that kernel can see.

``grade_all`` grades several notebooks side by side (``nnbasics grade`` with
many files); ``grade_one`` never raises, so a grader fault is still a result.
"""

import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat

from ..assignments import ASSIGNMENTS
from . import kernel
from .inputs import MAX_NOTEBOOK_BYTES
from .limits import Limits, as_config

# nbgrader (in pipeline, steps, gradebook, feedback) takes about a second to import: those modules are
# imported inside the functions, so that `grade_all` launches the kernels first and they boot meanwhile.

# nbgrader's own gradebook code trips this SQLAlchemy warning on every submission (harmless, known upstream)
warnings.filterwarnings("ignore", message="Object of type <Submitted")


class Invalid(Exception):
    """The input is not a gradable notebook of this course; the message says why in one sentence."""


# -- parsing the learner's file ---------------------------------------------------


def read_notebook(data, name="the notebook"):
    """Parse notebook bytes into an nbformat v4 node, or raise ``Invalid`` with the reason."""
    if not data.strip():
        raise Invalid(f"{name} is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise Invalid(f"{name} is {len(data) >> 20} MiB, too large for an exercise notebook (clear its outputs)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(f"{name} is not a text file, so it cannot be a notebook") from None
    try:
        raw = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise Invalid(f"{name} is not a notebook: it is not valid JSON") from None
    if not isinstance(raw, dict) or "nbformat" not in raw or not isinstance(raw.get("nbformat"), int):
        raise Invalid(f"{name} is JSON but not a Jupyter notebook")
    if raw["nbformat"] < 3:  # v3 converts to v4 faithfully; older formats lack the cell metadata
        raise Invalid(f"{name} uses notebook format v{raw['nbformat']}, too old to grade; save it again in Jupyter")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as e:  # nbformat raises many kinds for broken structure
        raise Invalid(f"{name} is not a valid notebook ({type(e).__name__})") from None
    if not isinstance(nb.get("cells"), list):
        raise Invalid(f"{name} is not a valid notebook (it has no cells)")
    return nb


# -- the notebook entry --------------------------------------------------------------


def _test_record(gid, score, max_score, feedback):
    return {"grade_id": gid, "score": score, "max_score": max_score, "passed": score >= max_score, "feedback": feedback}


def _entry(path, assignment, status, error, tests):
    from .gradebook import points

    known = assignment in ASSIGNMENTS
    return {
        "path": path,
        "assignment": assignment,
        "status": status,
        "error": error,
        "score": float(sum(t["score"] for t in tests)),
        # an ungradable file of a known assignment still shows what it was out of
        "max_score": float(sum(t["max_score"] for t in tests) or (sum(points(assignment).values()) if known else 0)),
        "tests": tests,
    }


def ungraded(path, assignment, status, error):
    """The entry of a notebook that could not be graded (``invalid`` or ``crashed``), with the reason."""
    return _entry(str(path), assignment, status, error, [])


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
    it boots meanwhile. With ``keep_notebook`` the entry also holds, under
    ``"notebook"``, the graded notebook as JSON text (the sanitized one when
    it crashed), for nbgrader's ``autograded/`` folder.

    Returns
    -------
    dict
        The notebook entry of ``nnbasics grade --json``.
    """
    name, limits = Path(path).name, limits or Limits()
    from .course import identify

    try:
        nb = read_notebook(data, name)
        found = identify(nb)
        if assignment is None and found is None:
            raise Invalid(f"{name} is not one of this course's exercises ({', '.join(ASSIGNMENTS)})")
    except Invalid as e:
        return ungraded(path, assignment, "invalid", str(e))
    assignment = assignment or found
    from . import pipeline
    from .course import test_ids
    from .feedback import write_feedback_html
    from .gradebook import STUDENT, points, template_gradebook
    from .steps import LimitExceeded

    config = as_config(limits)
    if adopt:
        config = kernel.adoption_config(config, *adopt)
        km = kernel.SandboxKernelManager(config=config)  # adopts the kernel when the execute step starts it
    else:
        km = kernel.launch_ahead(config)
    try:
        with tempfile.TemporaryDirectory(prefix="nnbasics-grade-") as course:
            db = Path(course) / "gradebook.db"
            shutil.copyfile(template_gradebook(), db)
            resources = {
                "nbgrader": {"assignment": assignment, "notebook": assignment, "student": STUDENT},
                "metadata": {"path": course},
            }
            resources["nbgrader"]["db_url"] = f"sqlite:///{db}"
            kept = {}
            try:
                nb, resources = pipeline.sanitize(nb, resources, config)
                if keep_notebook:  # before the probes replace the tests: what an instructor reviews if it crashes
                    kept["notebook"] = nbformat.writes(nb)
                nb, resources = pipeline.autograde(nb, resources, config, km)
            except LimitExceeded as e:
                reason = f"not graded: {e}"
                tests = [_test_record(gid, 0.0, points(assignment)[gid], reason) for gid in test_ids(assignment)]
                return _entry(str(path), assignment, "crashed", str(e), tests) | kept
            tests = _graded_tests(assignment, resources)
            if keep_notebook:
                kept["notebook"] = nbformat.writes(nb)
            if html_dir is not None:
                write_feedback_html(nb, resources, Path(html_dir) / f"{Path(path).stem}.html")
    finally:
        kernel.shut_down(km)
    return _entry(str(path), assignment, "graded", None, tests) | kept


def grade_one(item, limits, assignment=None, html_dir=None, adopt=None, keep_notebook=False):
    """Grade one ``(path, bytes or error message)`` item; never raises."""
    path, data = item
    if isinstance(data, str):  # the file could not be read: data is the reason
        return ungraded(path, assignment, "invalid", data)
    try:
        return grade(data, path, limits, assignment, html_dir, adopt, keep_notebook)
    except Exception as e:  # a grader fault must still be one clear line, not a traceback
        return ungraded(path, assignment, "crashed", f"the grader failed on {Path(path).name}: {e}")


def grade_all(items, limits, assignment=None, html_dir=None):
    """Grade items side by side, one process each (forked after the imports); entries in order.

    The boxed kernels are launched first, so they boot while this process
    imports nbgrader. Processes rather than threads: grading is partly
    CPU-bound Python, and CPython 3.11's AST compiler is not thread-safe.
    """
    config = as_config(limits)
    linux = sys.platform.startswith("linux")
    ahead = [kernel.launch_ahead(config) if linux and not isinstance(data, str) else None for _, data in items]
    try:
        from .gradebook import template_gradebook

        template_gradebook()  # build (or find) it once, before the workers start
        adopt = [(km.kernel_dir, km.provisioner.pid) if km else None for km in ahead]
        # the kernels do most of the work and the workers mostly wait for them: more workers than cores
        workers = min(len(items), 4 * (os.cpu_count() or 1))
        if workers <= 1:
            return [grade_one(item, limits, assignment, html_dir, a) for item, a in zip(items, adopt)]
        context = multiprocessing.get_context("fork" if linux else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(grade_one, item, limits, assignment, html_dir, a) for item, a in zip(items, adopt)]
            return [f.result() for f in futures]
    finally:
        for km in filter(None, ahead):
            kernel.discard(km)
