"""Grade one learner notebook through nbgrader's autograde pipeline, in a private course.

``grade(data, path, limits)`` takes the notebook's bytes (the learner's file
is only ever read) and returns the notebook entry of the JSON in design.md:
status ``graded``, ``invalid`` or ``crashed``, the score and one record per
test. Each call gets its own temporary course: a copy of a gradebook that
already holds the five assignments (built once and cached), and an empty
directory that is all the sandboxed kernel can see.
"""

import copy
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import nbformat
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.api import Gradebook
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import ClearHiddenTests, Execute, GetGrades, OverwriteCells
from traitlets.config import Config

from .._env import with_scripts_on_path
from . import sandbox, steps
from .course import (
    ASSIGNMENTS,
    generate_steps,
    graded_cells,
    identify,
    nbgrader_meta,
    run_steps,
    source_bytes,
    source_notebook,
    test_ids,
)
from .sandbox import Limits, SandboxKernelManager

STUDENT = "learner"
MAX_NOTEBOOK_BYTES = 64 << 20

# nbgrader's own gradebook code trips this SQLAlchemy warning on every submission (harmless, known upstream)
warnings.filterwarnings("ignore", message="Object of type <Submitted")


class Invalid(Exception):
    """The input is not a gradable notebook of this course; the message says why in one sentence."""


# -- reading the learner's file ------------------------------------------------


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


# -- the gradebook every private course starts from -----------------------------


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnbasics"


_template_lock = threading.Lock()


@functools.cache
def template_gradebook():
    """Path of a gradebook holding the five assignments, the learner and their submissions.

    Built with nbgrader's own steps (SaveCells) once per course version and
    kept in the user's cache, since creating a gradebook runs alembic.
    """
    import nbgrader

    key = hashlib.sha256(nbgrader.__version__.encode())
    for assignment in ASSIGNMENTS:
        key.update(source_bytes(assignment))
    name = f"gradebook-{key.hexdigest()[:16]}.db"
    with _template_lock:
        for folder in (_cache_dir(), Path(tempfile.gettempdir()) / f"nnbasics-{os.getuid()}"):
            path = folder / name
            if path.is_file():
                return path
            try:
                folder.mkdir(parents=True, exist_ok=True)
                tmp = folder / f".{name}.{os.getpid()}.tmp"
                _build_gradebook(tmp)
                os.replace(tmp, path)  # atomic: a concurrent grader never sees half a gradebook
                return path
            except OSError:
                continue
        raise OSError("no writable folder for the grader's gradebook (tried ~/.cache and the temp folder)")


def _build_gradebook(path):
    path = Path(path)
    path.unlink(missing_ok=True)
    ensure_course(f"sqlite:///{path}", [STUDENT])
    return path


def ensure_course(db_url, students=()):
    """Make the gradebook at ``db_url`` hold the five assignments' cells and these students' submissions.

    Assignments already there are left alone (e.g. made by ``nbgrader generate_assignment``);
    missing ones are recorded with nbgrader's own generate_assignment steps.
    """
    from nbgrader.api import MissingEntry

    # nbgrader runs the `alembic` script when it creates a gradebook: make sure it is found
    os.environ["PATH"] = with_scripts_on_path()["PATH"]
    missing = []
    with Gradebook(db_url) as gb:
        for assignment in ASSIGNMENTS:
            gb.update_or_create_assignment(assignment)
            try:
                gb.find_notebook(assignment, assignment)
            except MissingEntry:
                missing.append(assignment)
    for assignment in missing:
        resources = {"nbgrader": {"assignment": assignment, "notebook": assignment, "db_url": db_url}}
        run_steps(generate_steps(save=True), source_notebook(assignment), resources)
    with Gradebook(db_url) as gb:
        for student in students:
            gb.update_or_create_student(student)
            for assignment in ASSIGNMENTS:
                gb.update_or_create_submission(assignment, student)


# -- the pipeline ----------------------------------------------------------------


def _pipelines():
    """nbgrader's autograde pipelines with our steps added (and Execute swapped for ProbeExecute)."""
    sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
    sanitize.insert(sanitize.index(OverwriteCells), steps.AuditLockedCells)
    sanitize.insert(sanitize.index(OverwriteCells), steps.FlagReferenceImports)
    sanitize.insert(0, steps.MatchCells)
    sanitize.append(steps.SealTests)
    autograde = Autograde.class_traits()["autograde_preprocessors"].default()
    at = autograde.index(Execute)
    autograde[at : at + 1] = [steps.ProbeExecute, steps.JudgeTests]
    return sanitize, autograde


def _config(limits, kernel_dir):
    c = Config()
    c.ProbeExecute.timeout = max(1, round(limits.cell_timeout))
    c.ProbeExecute.notebook_timeout = float(limits.notebook_timeout)
    c.ProbeExecute.max_output_bytes = int(limits.max_output_kb) * 1024
    c.ProbeExecute.memory_mb = int(limits.memory_mb)
    c.ProbeExecute.kernel_manager_class = SandboxKernelManager
    c.SandboxKernelManager.kernel_dir = kernel_dir
    c.SandboxKernelManager.memory_mb = int(limits.memory_mb)
    c.SandboxKernelManager.notebook_timeout = float(limits.notebook_timeout)
    c.OverwriteCells.add_missing_cells = True
    return c


@functools.cache
def _points(assignment):
    points = {}
    for cell in source_notebook(assignment).cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade") and meta.get("grade_id") in graded_cells(assignment):
            points[meta["grade_id"]] = float(meta.get("points", 0))
    return points


def _entry(path, assignment, status, error, tests):
    known = assignment in ASSIGNMENTS
    return {
        "path": path,
        "assignment": assignment,
        "status": status,
        "error": error,
        "score": float(sum(t["score"] for t in tests)),
        # an ungradable file of a known assignment still shows what it was out of
        "max_score": float(sum(t["max_score"] for t in tests) or (sum(_points(assignment).values()) if known else 0)),
        "tests": tests,
    }


def ungraded(path, assignment, status, error):
    """The entry of a notebook that could not be graded (``invalid`` or ``crashed``), with the reason."""
    return _entry(str(path), assignment, status, error, [])


def grade(data, path, limits=None, assignment=None, html_dir=None, prestarted=None):
    """Grade a notebook given as bytes; ``path`` is only used to name it.

    ``prestarted`` is a kernel launched ahead by ``sandbox.prestart`` (with
    the same limits); without it, one is launched here, before the notebook
    is sanitized, so it boots meanwhile.

    Returns
    -------
    dict
        The notebook entry of ``nnbasics grade --json`` (see design.md).
    """
    name, limits = Path(path).name, limits or Limits()
    try:
        nb = read_notebook(data, name)
        found = identify(nb)
        if assignment is None and found is None:
            raise Invalid(f"{name} is not one of this course's exercises ({', '.join(ASSIGNMENTS)})")
    except Invalid as e:
        return ungraded(path, assignment, "invalid", str(e))
    assignment = assignment or found
    points = _points(assignment)
    own = None if prestarted else sandbox.prestart(limits)
    box = prestarted or own[0]
    with tempfile.TemporaryDirectory(prefix="nnbasics-grade-") as tmp:
        db = Path(tmp) / "gradebook.db"
        shutil.copyfile(template_gradebook(), db)
        resources = {
            "nbgrader": {"assignment": assignment, "notebook": assignment, "student": STUDENT},
            "metadata": {"path": box.kernel_dir},
            "nnbasics": {"notes": {}},
        }
        resources["nbgrader"]["db_url"] = f"sqlite:///{db}"
        config = _config(limits, box.kernel_dir)
        sanitize, autograde = _pipelines()
        kernel = None
        try:
            resources["nnbasics"]["kernel"] = kernel = sandbox.adopt(config, box, own and own[1])
            nb, resources = run_steps(sanitize, nb, resources, config)
            nb, resources = run_steps(autograde, nb, resources, config)
        except steps.LimitExceeded as e:
            reason = f"not graded: {e}"
            tests = [_test(gid, 0.0, points[gid], reason) for gid in test_ids(assignment)]
            return _entry(str(path), assignment, "crashed", str(e), tests)
        finally:
            if kernel is not None:
                sandbox.shut_down(kernel)
            resources["nnbasics"].pop("kernel", None)  # a live object: nothing downstream may copy it
            if own:
                sandbox.discard(*own)
        tests = _collect(assignment, resources, points)
        if html_dir is not None:
            write_feedback_html(nb, resources, Path(html_dir) / f"{Path(path).stem}.html")
    return _entry(str(path), assignment, "graded", None, tests)


def _test(gid, score, max_score, feedback):
    return {"grade_id": gid, "score": score, "max_score": max_score, "passed": score >= max_score, "feedback": feedback}


def _collect(assignment, resources, points):
    state = resources["nnbasics"]
    with Gradebook(resources["nbgrader"]["db_url"]) as gb:
        grades = {g.name: g for g in gb.find_submission_notebook(assignment, assignment, STUDENT).grades}
        scores = {gid: float(grades[gid].score or 0.0) for gid in points if gid in grades}
    tests = []
    for gid in test_ids(assignment):
        notes = [n for n in (state["notes"].get(gid), state.get("feedback", {}).get(gid)) if n]
        tests.append(_test(gid, scores.get(gid, 0.0), points[gid], " ".join(notes) or None))
    return tests


def write_feedback_html(nb, resources, target):
    """nbgrader's feedback page for this notebook, hidden tests stripped (the stock one shows them)."""
    from nbconvert.exporters import HTMLExporter

    nb, resources = run_steps([GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor], copy.deepcopy(nb), resources)
    formgrader = Path(sys.modules["nbgrader"].__file__).parent / "server_extensions" / "formgrader"
    exporter = HTMLExporter(  # configured as nbgrader's GenerateFeedback does
        template_name="feedback",
        extra_template_basedirs=[str(formgrader / "templates")],
        extra_template_paths=[str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css")],
    )
    body, _ = exporter.from_notebook_node(nb, resources)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, target)
