"""Our nbgrader pipeline steps, one per module, as nbgrader's own ``preprocessors/`` are.

In the order ``grading/pipeline.py`` splices them into nbgrader's autograde:

* ``MatchCells`` (first): grade_ids an editor stripped are restored by content;
* ``AuditLockedCells`` (before ``OverwriteCells``): edited locked cells are noted;
* ``FlagReferenceImports`` (before ``OverwriteCells``): answers importing nnbasics are flagged;
* ``SealTests`` (last of sanitizing): test cells become probes, their cases stay here;
* ``ProbeExecute`` (in place of ``Execute``): the probes run in the sandboxed kernel, under limits;
* ``JudgeTests`` (right after): the verdict, taken here from the data sent back;
* ``CheckGradebook`` (first), ``CarryNotes``/``ReadNotes``/``SaveNotes`` (the notes across nbgrader's two
  conversions, and into the gradebook), ``ClearHiddenOutput`` (feedback): see ``pipeline.py``.

They share one ``GradingState`` (``state.py``).
"""

from .audit_locked import AuditLockedCells
from .check_gradebook import CheckGradebook, StaleGradebook
from .clear_hidden_output import ClearHiddenOutput
from .flag_reference import FlagReferenceImports, imports_reference
from .judge_tests import JudgeTests, verdict
from .match_cells import MatchCells
from .notes import CarryNotes, ReadNotes, SaveNotes
from .probe_execute import ProbeExecute
from .seal_tests import SealTests, probe_source, record_cases
from .state import Case, GradingState, LimitExceeded, Sealed, state

__all__ = [
    "AuditLockedCells",
    "CarryNotes",
    "Case",
    "CheckGradebook",
    "ClearHiddenOutput",
    "FlagReferenceImports",
    "GradingState",
    "JudgeTests",
    "LimitExceeded",
    "MatchCells",
    "ProbeExecute",
    "ReadNotes",
    "SaveNotes",
    "SealTests",
    "Sealed",
    "StaleGradebook",
    "imports_reference",
    "probe_source",
    "record_cases",
    "state",
    "verdict",
]
