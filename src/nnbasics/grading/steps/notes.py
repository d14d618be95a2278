"""The notes of the sanitize pass across nbgrader's two conversions, and into the gradebook.

``MatchCells`` and ``AuditLockedCells`` note what they repaired (a duplicated
id, an edited locked cell) in the ``GradingState``. Stock ``nbgrader
autograde`` runs the sanitize and the autograde lists as two conversions and
writes the sanitized notebook to disk in between, so ``resources`` (and the
state in it) does not reach the second one:

* ``CarryNotes`` (last of sanitizing) writes the notes into the sanitized
  notebook's metadata under ``nnbasics``, replacing whatever the submission
  had there, so a learner cannot plant notes;
* ``ReadNotes`` (first of autograding) reads them back into the state and
  removes the key, so the graded notebook keeps no trace of it;
* ``SaveNotes`` (after ``SaveAutoGrades``) keeps each test's note and verdict
  as the gradebook's comment on that test's answer cell (``test_x`` ->
  ``x``), where formgrader and the feedback show it.

``nnbasics grade`` runs both passes on one ``resources``; these steps then
change nothing.
"""

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor

from ..course import nbgrader_meta
from .state import state

METADATA_KEY = "nnbasics"


def test_feedback(graded, test_id):
    """What the learner reads about one test: its note (a repaired cell) and its verdict, or None."""
    return " ".join(n for n in (graded.notes.get(test_id), graded.verdicts.get(test_id)) if n) or None


class CarryNotes(NbGraderPreprocessor):
    """Write the sanitize pass's notes into the sanitized notebook's metadata (replacing the submission's)."""

    def preprocess(self, nb, resources):
        nb.metadata[METADATA_KEY] = {"notes": dict(state(resources).notes)}
        return nb, resources


class ReadNotes(NbGraderPreprocessor):
    """Read the notes ``CarryNotes`` wrote back into the state, and remove them from the notebook."""

    def preprocess(self, nb, resources):
        carried = nb.metadata.pop(METADATA_KEY, None)
        notes = carried.get("notes") if isinstance(carried, dict) else None
        if isinstance(notes, dict):
            kept = state(resources).notes
            for gid, note in notes.items():
                if isinstance(gid, str) and isinstance(note, str):
                    kept.setdefault(gid, note)
        return nb, resources


class SaveNotes(NbGraderPreprocessor):
    """Record each test's note and verdict as the gradebook comment on its answer cell."""

    def preprocess(self, nb, resources):
        graded, info = state(resources), resources["nbgrader"]
        said = {}
        for cell in nb.cells:
            meta = nbgrader_meta(cell)
            if meta.get("solution") and isinstance(meta.get("grade_id"), str):
                text = test_feedback(graded, f"test_{meta['grade_id']}")
                if text:
                    said[meta["grade_id"]] = text
        if not said:
            return nb, resources
        with Gradebook(info["db_url"]) as gb:
            for gid, text in said.items():
                try:
                    comment = gb.find_comment(gid, info["notebook"], info["assignment"], info["student"])
                except MissingEntry:
                    continue
                comment.auto_comment = text
            gb.db.commit()
        return nb, resources
