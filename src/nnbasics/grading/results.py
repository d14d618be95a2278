"""The class's results journal: every graded submission, as data, in a file that survives interruption.

``grade-class`` appends one JSON line per graded submission to
``<course root>/.nnbasics/results.jsonl`` (the course root is SUBMITTED_DIR's
parent) and flushes it to disk before it touches the CSV or the gradebook:
the journal is the record of what was graded, and the gradebook, the feedback
pages and the CSV are rebuilt from it when a run was cut short. A run killed
mid-write loses at most the line being written, which ``load`` ignores (and
the next line starts on a line of its own). The latest line of a (student,
assignment) wins. ``nnbasics report`` reads it to build the item-analysis
report without grading anything again.

A record::

    {"student_id": "ada", "assignment": "01_neuron",
     "notebook_sha256": "<hex of the submitted file's bytes>",
     "graded_at": "2026-12-01T09:57:07Z",
     "fingerprint": "<hex of the grading material: hidden tests, checks, version>",
     "entry": {...},          # the notebook entry of `nnbasics grade --json`, tests included
     "answers": {"sigmoid": "def sigmoid(z): ...", ...},   # the submitted answer cells, by grade_id
     "autograded": true}      # grade-class wrote autograded/<student>/<assignment>/<assignment>.ipynb

``fingerprint`` is ``material.fingerprint()`` of the instructor's installation;
``entry["status"]`` is ``graded``, ``crashed`` or ``invalid`` and
``entry["error"]`` the reason when it is not graded.
"""

import hashlib
import json
import os
import time
from pathlib import Path

FIELDS = ("student_id", "assignment", "notebook_sha256", "graded_at", "fingerprint", "entry", "answers")


def journal_path(course_root):
    """Where the journal of the course at ``course_root`` lives."""
    return Path(course_root) / ".nnbasics" / "results.jsonl"


def append(course_root, record):
    """Append ``record`` (a dict with ``FIELDS``) to the journal and make it durable before returning."""
    missing = [k for k in FIELDS if k not in record]
    if missing:
        raise ValueError(f"a results record needs {', '.join(missing)}")
    path = journal_path(course_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=True, sort_keys=True) + "\n"
    with open(path, "a+b") as f:
        if f.tell():  # a line cut short by a kill must not swallow this one
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                line = "\n" + line
        f.write(line.encode("ascii"))
        f.flush()
        os.fsync(f.fileno())


def load(course_root):
    """``{(student_id, assignment): record}``: the latest record of each submission (empty if none).

    A line that is not a complete JSON record (a write cut short by an
    interrupt) is skipped.
    """
    latest = {}
    try:
        with open(journal_path(course_root), encoding="utf-8") as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict) and all(k in record for k in FIELDS):
                    latest[record["student_id"], record["assignment"]] = record
    except FileNotFoundError:
        pass
    return latest


def answers_of(data):
    """``{grade_id: source}`` of the answer (solution) cells of notebook bytes; ``{}`` if they do not parse."""
    try:
        nb = json.loads(data)
        cells = nb["cells"] if isinstance(nb, dict) and isinstance(nb.get("cells"), list) else []
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}
    answers = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if isinstance(meta, dict) and meta.get("solution") and isinstance(meta.get("grade_id"), str):
            source = cell.get("source", "")
            answers.setdefault(meta["grade_id"], "".join(source) if isinstance(source, list) else str(source))
    return answers


def read_summary(data):
    """What the journal keeps of a submission's bytes (or of the reason they were unreadable): sha256 and answers.

    Computed where the bytes are (a worker), so only this travels back.
    """
    readable = isinstance(data, bytes)
    return {
        "notebook_sha256": hashlib.sha256(data).hexdigest() if readable else "",
        "answers": answers_of(data) if readable else {},
    }


def record(student, assignment, data, entry, fingerprint="", summary=None):
    """The journal record of one graded submission (``data``: its bytes, or the reason it was unreadable).

    ``summary`` is ``read_summary(data)`` when it was computed elsewhere (``data`` is then not needed).
    """
    return {
        "student_id": student,
        "assignment": assignment,
        "graded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "fingerprint": fingerprint,
        "entry": entry,
        **(summary or read_summary(data)),
    }
