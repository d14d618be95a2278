"""The nbgrader gradebook: the template every private grading course starts from, and reading grades.

``nnbasics grade`` grades each notebook in a private temporary course whose
gradebook is a copy of ``template_gradebook()`` (the five assignments'
cells, recorded by nbgrader's own generate_assignment steps, and one
learner); ``grade-class`` keeps the instructor's ``gradebook.db``, in which
``ensure_course`` records what is missing (``classmode.sync_gradebook``
records each class result). ``points`` and ``scores`` read what nbgrader's
``SaveAutoGrades`` wrote; ``private_copy`` makes one private course's copy
(opened through one shared engine, without fsync).
"""

import functools
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

import nbgrader.api
import sqlalchemy
from nbgrader.api import BaseCell, Grade, Gradebook
from sqlalchemy import event

from .._env import with_scripts_on_path
from ..assignments import ASSIGNMENTS
from .course import generate_steps, graded_meta, run_steps, source_bytes, source_notebook

STUDENT = "learner"  # the one student of a private course

_template_lock = threading.Lock()
_engines_lock = threading.Lock()  # a Dask worker with several threads grades notebooks side by side


def _cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnbasics"


def _user_tag():
    # a per-user folder name for the shared temp folder (os.getuid does not exist on Windows)
    return str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")


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
        for folder in (_cache_dir(), Path(tempfile.gettempdir()) / f"nnbasics-{_user_tag()}"):
            path = folder / name
            if path.is_file():
                return path
            try:
                folder.mkdir(parents=True, exist_ok=True)
                tmp = folder / f".{name}.{os.getpid()}.tmp"
                tmp.unlink(missing_ok=True)
                ensure_course(f"sqlite:///{tmp}", [STUDENT])
                os.replace(tmp, path)  # atomic: a concurrent grader never sees half a gradebook
                return path
            except OSError:
                continue
        raise OSError("no writable folder for the grader's gradebook (tried ~/.cache and the temp folder)")


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


@functools.cache
def points(assignment):
    """``{test grade_id: points}`` of ``assignment``'s source notebook."""
    return {meta["grade_id"]: float(meta.get("points", 0)) for meta, _ in graded_meta(assignment) if meta.get("grade")}


def scores(db_url, assignment, student=STUDENT):
    """``{test grade_id: score}`` that nbgrader's SaveAutoGrades recorded for this submission."""
    with Gradebook(db_url) as gb:
        notebook = gb.find_submission_notebook(assignment, assignment, student)
        # one query: a grade's name is its cell's, which `grade.name` would load grade by grade
        rows = gb.db.query(BaseCell.name, Grade.score).join(Grade.cell).filter(Grade.notebook_id == notebook.id)
        got = dict(rows.all())
        return {gid: float(got[gid] or 0.0) for gid in points(assignment) if gid in got}


_PRIVATE_ENGINES = {}  # db_url -> its engine (None until first opened), for the latest private copies
_KEEP = 4  # private copies whose engines are kept (one per notebook being graded in this process suffices)


def private_copy(folder):
    """Copy ``template_gradebook()`` into ``folder`` (a private course); return its ``db_url``.

    Every ``Gradebook`` nbgrader opens on the copy (six per notebook: our
    checks, OverwriteCells, SaveAutoGrades, the scores ...) shares one
    SQLAlchemy engine, so the SQL compiled for the first is reused by the
    others (a new engine means a new dialect and an empty statement cache:
    35-60 ms of compiling per notebook). Its connections skip SQLite's fsync
    (``synchronous=OFF``, journal in memory): the copy lives for one notebook
    and is deleted with its folder, so there is nothing to keep durable, and
    nbgrader's SaveAutoGrades commits once per test cell (a tenth of a second
    or more of disk flushes on a busy machine). The grades still go through
    SaveAutoGrades; an instructor's gradebook is never opened this way.
    """
    db = Path(folder) / "gradebook.db"
    shutil.copyfile(template_gradebook(), db)
    url = f"sqlite:///{db}"
    with _engines_lock:
        _PRIVATE_ENGINES[url] = None
        while len(_PRIVATE_ENGINES) > _KEEP:  # the oldest copy's notebook is done: its engine goes
            engine = _PRIVATE_ENGINES.pop(next(iter(_PRIVATE_ENGINES)))
            if engine is not None:
                engine.dispose()
    return url


def _create_engine(url, *args, **kwargs):
    """``create_engine`` as nbgrader's Gradebook calls it: a private copy's one engine, any other a new one.

    Gradebook.close disposes of the engine's connections, not of the engine:
    the next Gradebook on that copy connects again through the same engine.
    """
    with _engines_lock:
        if url not in _PRIVATE_ENGINES:
            return sqlalchemy.create_engine(url, *args, **kwargs)
        if _PRIVATE_ENGINES[url] is None:
            engine = sqlalchemy.create_engine(url, *args, **kwargs)
            event.listen(engine, "connect", _no_flush)
            _PRIVATE_ENGINES[url] = engine
        return _PRIVATE_ENGINES[url]


def _no_flush(dbapi_connection, _record):
    dbapi_connection.execute("PRAGMA synchronous=OFF")
    dbapi_connection.execute("PRAGMA journal_mode=MEMORY")


# nbgrader.api offers no other way in: its Gradebook makes an engine from the URL (create_engine's name there)
nbgrader.api.create_engine = _create_engine
