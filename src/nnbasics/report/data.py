"""A graded class as the report sees it: every student's submission of every assignment, from the journal.

``load_class(submitted)`` reads what ``grade-class`` stored in the results
journal (``nnbasics.grading.results``) and the folders of nbgrader's layout
``SUBMITTED_DIR/<student>/<assignment>/<notebook>.ipynb``; it grades
nothing. A student folder without a notebook for an assignment that others
submitted is ``missing``; a notebook that is on disk but not (or not in this
version) in the journal is *pending*: it is left out of the statistics and
the page says that grade-class should run again.
"""

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..assignments import ASSIGNMENTS
from ..grading import course, results

STATUSES = ("graded", "crashed", "invalid", "missing")


class NotAClass(Exception):
    """The folder cannot be reported on; the message says why in one sentence."""


@dataclass
class Submission:
    """One student's result for one assignment (``status`` one of ``STATUSES``)."""

    student: str
    assignment: str
    status: str
    score: float | None  # None unless graded
    max_score: float
    reason: str = ""
    graded_at: str = ""
    sha256: str = ""
    tests: dict = field(default_factory=dict)  # {grade_id: {score, max_score, passed, feedback}}
    answers: dict = field(default_factory=dict)  # {grade_id: answer cell source}


@dataclass
class ClassResults:
    """Everything the report is built from."""

    submitted: Path
    journal: Path
    assignments: list  # ids in course order
    students: list  # sorted
    submissions: dict  # {(student, assignment): Submission}
    pending: list  # [(student, assignment)] on disk but not graded in this version
    points: dict  # {assignment: {test grade_id: points}}

    def of(self, assignment):
        """The submissions of ``assignment``, one per student who has one (missing included), by student."""
        return [self.submissions[s, assignment] for s in self.students if (s, assignment) in self.submissions]


def test_points(assignment):
    """``{test grade_id: points}`` of ``assignment``'s source notebook, in notebook order."""
    cells = course.source_notebook(assignment).cells
    return {
        course.nbgrader_meta(c)["grade_id"]: float(course.nbgrader_meta(c).get("points", 0))
        for c in cells
        if course.nbgrader_meta(c).get("grade") and course.nbgrader_meta(c).get("grade_id")
    }


def _on_disk(submitted):
    """``{(student, assignment): notebook path}`` and the student folders, of nbgrader's submitted layout."""
    found, students = {}, []
    for folder in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        students.append(folder.name)
        for assignment in ASSIGNMENTS:
            notebooks = sorted((folder / assignment).glob("*.ipynb")) if (folder / assignment).is_dir() else []
            if notebooks:
                found[folder.name, assignment] = notebooks[-1]
    return found, students


def _sha256(path):
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _from_record(record, points):
    entry = record["entry"]
    tests = {t["grade_id"]: t for t in entry.get("tests") or [] if isinstance(t, dict) and "grade_id" in t}
    status = entry.get("status") if entry.get("status") in STATUSES else "crashed"
    return Submission(
        student=record["student_id"],
        assignment=record["assignment"],
        status=status,
        score=float(entry.get("score") or 0.0) if status == "graded" else None,
        max_score=float(entry.get("max_score") or math.fsum(points.values())),
        reason="" if status == "graded" else str(entry.get("error") or f"the submission was {status}"),
        graded_at=str(record.get("graded_at") or ""),
        sha256=str(record.get("notebook_sha256") or ""),
        tests=tests,
        answers=dict(record.get("answers") or {}),
    )


def load_class(submitted):
    """Read a graded class: the journal beside ``submitted`` and the submitted folders.

    Parameters
    ----------
    submitted : str or Path
        The ``SUBMITTED_DIR`` given to ``grade-class``; the course root is
        its parent.

    Returns
    -------
    ClassResults

    Raises
    ------
    NotAClass
        When ``submitted`` is not a folder of nbgrader's layout, or no
        graded submission of it is stored.
    """
    submitted = Path(submitted)
    if not submitted.is_dir():
        raise NotAClass(f"{submitted} is not a folder")
    root = submitted.resolve().parent
    journal = results.journal_path(root)
    on_disk, students = _on_disk(submitted)
    records = {k: r for k, r in results.load(root).items() if r["assignment"] in ASSIGNMENTS}
    if not on_disk and not records:
        raise NotAClass(
            f"{submitted} is not a class: it holds no <student>/<assignment>/<notebook>.ipynb of this course"
        )
    if not records:
        raise NotAClass(f"no graded submission of {submitted} is stored in {journal}: run nnbasics grade-class first")
    students = sorted(set(students) | {s for s, _ in records})
    assignments = [a for a in ASSIGNMENTS if any(k[1] == a for k in (*records, *on_disk))]
    points = {a: test_points(a) for a in assignments}
    submissions, pending = {}, []
    for student in students:
        for assignment in assignments:
            key = (student, assignment)
            record = records.get(key)
            if record is not None:
                submissions[key] = _from_record(record, points[assignment])
                if key in on_disk and _sha256(on_disk[key]) != record["notebook_sha256"]:
                    pending.append(key)  # changed since it was graded: the stored result is the old version's
            elif key in on_disk:
                pending.append(key)
            else:
                where = Path(submitted.name, student, assignment)
                submissions[key] = Submission(
                    student,
                    assignment,
                    "missing",
                    None,
                    math.fsum(points[assignment].values()),
                    reason=f"no notebook in {where.as_posix()}/",
                )
    return ClassResults(submitted, journal, assignments, students, submissions, pending, points)
