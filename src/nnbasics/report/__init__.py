"""The item-analysis report of a graded class: which tests the class failed, why, who crashed, which answers look alike.

``build(submitted, out_dir)`` reads what ``grade-class`` stored (the results
journal beside ``SUBMITTED_DIR``; nothing is graded again) and writes into
``out_dir``, as CONTRIBUTING.md fixes them:

- ``index.html``: the page, self-contained (inline CSS and SVG, no script,
  no request to another host);
- ``report.json``: ``{"assignments": {id: {"submissions", "status", "tests":
  {grade_id: {"pass_rate", "discrimination", "messages"}}}}, "similar":
  [{"assignment", "grade_id", "a", "b", "score"}]}``;
- ``tests.csv``: ``student_id,assignment,grade_id,score,max_score,status,message``,
  one row per student, assignment and test;
- ``submissions.csv``: ``student_id,assignment,status,score,max_score,reason,graded_at,notebook_sha256``,
  one row per student and assignment (the grade-class CSV's columns), for an LMS.

``nnbasics report SUBMITTED_DIR --report DIR`` and ``nnbasics grade-class
... --report DIR`` call it. The wing reads the grading wing and the site's
figure style; nothing in the core or the grader imports it.
"""

import csv
import io
import json
import os
import sys
from pathlib import Path

from . import data, similarity, stats

TESTS_FIELDS = ("student_id", "assignment", "grade_id", "score", "max_score", "status", "message")
SUBMISSIONS_FIELDS = (
    "student_id",
    "assignment",
    "status",
    "score",
    "max_score",
    "reason",
    "graded_at",
    "notebook_sha256",
)


def _num(x):
    return "" if x is None else format(round(float(x), 6), "g")


def analyse(klass):
    """The content of report.json, the score summaries and the common-answer groups of a class.

    Returns
    -------
    (dict, dict, list)
        report.json's object; ``{assignment: stats.score_summary(...)}``;
        ``[(assignment, grade_id, set of students)]`` left out of the pairs.
    """
    report, summaries, common = {"assignments": {}, "similar": []}, {}, []
    for assignment in klass.assignments:
        subs = klass.of(assignment)
        graded = [s for s in subs if s.status == "graded"]
        points = klass.points[assignment]
        counts = {k: sum(s.status == k for s in subs) for k in data.STATUSES}
        report["assignments"][assignment] = {
            "submissions": sum(s.status != "missing" for s in subs),
            "status": counts,
            "tests": stats.item_analysis(list(points), [s.tests for s in graded]),
        }
        summaries[assignment] = stats.score_summary([s.score for s in graded], sum(points.values()))
        answer_ids = sorted({gid for s in subs for gid in s.answers if not gid.startswith("quiz_")})
        for gid in answer_ids:
            cells = {s.student: s.answers[gid] for s in subs if gid in s.answers}
            pairs, groups = similarity.find_similar(assignment, gid, cells)
            report["similar"].extend(pairs)
            common.extend((assignment, gid, g) for g in groups)
    return report, summaries, common


def tests_rows(klass):
    """The rows of tests.csv: every student, assignment and test (sorted by student, assignment, notebook order)."""
    rows = []
    for student in klass.students:
        for assignment in klass.assignments:
            sub = klass.submissions.get((student, assignment))
            if sub is None:
                continue
            for gid, points in klass.points[assignment].items():
                t = sub.tests.get(gid)
                graded = sub.status == "graded" and t is not None
                if graded:
                    message = "" if t["passed"] else stats.failure_message(t)
                else:  # no points to show: a crash is never an honest 0
                    message = " ".join(str((t or {}).get("feedback") or sub.reason).split())
                rows.append(
                    {
                        "student_id": student,
                        "assignment": assignment,
                        "grade_id": gid,
                        "score": _num(t["score"]) if graded else "",
                        "max_score": _num(t["max_score"] if t else points),
                        "status": sub.status,
                        "message": message,
                    }
                )
    return rows


def submissions_rows(klass):
    """The rows of submissions.csv, one per student and assignment."""
    return [
        {
            "student_id": sub.student,
            "assignment": sub.assignment,
            "status": sub.status,
            "score": _num(sub.score) if sub.status == "graded" else "",
            "max_score": _num(sub.max_score),
            "reason": sub.reason,
            "graded_at": sub.graded_at,
            "notebook_sha256": sub.sha256,
        }
        for student in klass.students
        for assignment in klass.assignments
        if (sub := klass.submissions.get((student, assignment))) is not None
    ]


def _csv_text(fields, rows):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _write(path, text):
    """Write ``text`` to ``path`` atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def build(submitted, out_dir):
    """Write the report of the class in ``submitted`` into ``out_dir`` (created if needed).

    Returns
    -------
    data.ClassResults
        What the report was built from.

    Raises
    ------
    data.NotAClass
        When there is nothing to report on (see ``data.load_class``).
    """
    from .page import render

    klass = data.load_class(submitted)
    report, summaries, common = analyse(klass)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    _write(out / "tests.csv", _csv_text(TESTS_FIELDS, tests_rows(klass)))
    _write(out / "submissions.csv", _csv_text(SUBMISSIONS_FIELDS, submissions_rows(klass)))
    _write(out / "index.html", render(klass, report, summaries, common))
    return klass


def check_destination(submitted, out_dir):
    """Why ``out_dir`` cannot hold the report of ``submitted`` (one sentence), or None when it can."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        return f"--report {out} exists and is not a folder"
    try:
        inside = out.resolve().is_relative_to(Path(submitted).resolve())
    except OSError:
        inside = False
    if inside:
        return f"--report {out} is inside {submitted}, where it would look like a student's folder"
    return None


def report_command(args, prog="nnbasics report"):
    """Run ``nnbasics report SUBMITTED_DIR --report DIR``; returns the exit status (0 written, 2 usage)."""
    problem = check_destination(args.submitted, args.report)
    if problem:
        print(f"{prog}: error: {problem}", file=sys.stderr)
        return 2
    try:
        klass = build(args.submitted, args.report)
    except data.NotAClass as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    n = sum(s.status != "missing" for s in klass.submissions.values())
    print(f"report of {n} submission(s) by {len(klass.students)} student(s): {Path(args.report) / 'index.html'}")
    if klass.pending:
        print(f"{len(klass.pending)} submission(s) new or changed since grading are not in it", file=sys.stderr)
    return 0
