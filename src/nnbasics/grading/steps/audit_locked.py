"""``AuditLockedCells``: note which locked cells a submission edited or deleted.

nbgrader's ``OverwriteCells`` (which runs next) restores them; this step only
makes sure the learner is told, next to the test that cell belongs to.
"""

from nbgrader.preprocessors import NbGraderPreprocessor

from ..course import nbgrader_meta, released_notebook
from .state import state


class AuditLockedCells(NbGraderPreprocessor):
    """Record a note for every locked cell that is missing or differs from the released one."""

    def preprocess(self, nb, resources):
        notes = state(resources).notes
        present = {}
        for cell in nb.cells:
            present.setdefault(nbgrader_meta(cell).get("grade_id"), cell)
        for ref in released_notebook(resources["nbgrader"]["assignment"]).cells:
            meta = nbgrader_meta(ref)
            gid = meta.get("grade_id")
            if not meta.get("locked") or gid in notes:
                continue
            if gid not in present:
                notes[gid] = f"The locked cell {gid} was missing; the original was restored."
            elif present[gid].source.strip() != ref.source.strip():
                notes[gid] = f"The locked cell {gid} had been edited; the original was restored."
        return nb, resources
