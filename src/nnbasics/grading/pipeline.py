"""The route from a learner's notebook to its verdict: nbgrader's autograde pipelines with our steps in them.

nbgrader autogrades a notebook in two passes, each a list of preprocessors
(configurable as ``Autograde.sanitize_preprocessors`` and
``Autograde.autograde_preprocessors``). We keep nbgrader's steps, in
nbgrader's order, and splice ours in (``steps/``, one module each):

Sanitize (``SANITIZE``), on the learner's cells:

1. ``CheckGradebook``        ours: refuse when the gradebook holds another version of the course
2. ``MatchCells``            ours: restore grade_ids an editor stripped
3. ``ClearOutput``           nbgrader
4. ``DeduplicateIds``        nbgrader
5. ``OverwriteKernelspec``   nbgrader
6. ``AuditLockedCells``      ours: note edited or deleted locked cells
7. ``OverwriteCells``        nbgrader: locked cells back to the released source
8. ``CheckCellMetadata``     nbgrader (its schema checked once per process: ``metadata_schema.py``)
9. ``CarryNotes``            ours: the notes, into the sanitized notebook's metadata

Autograde (``AUTOGRADE``):

1. ``ReadNotes``             ours: the sanitize pass's notes, back from the metadata
2. ``FlagReferenceImports``  ours: answers that import nnbasics will score 0
3. ``SealTests``             ours: test cells become probes; expectations stay in this process
4. ``ProbeExecute``          in place of nbgrader's ``Execute``: the notebook runs in the sandboxed kernel
5. ``JudgeTests``            ours: the verdict, taken here from the probes' data
6. ``IgnorePattern``        nbgrader
7. ``ClearMetadataPreprocessor``  nbgrader (nbconvert's; off unless configured)
8. ``LimitOutput``           nbgrader
9. ``SaveAutoGrades``        nbgrader: scores the verdicts into the gradebook
10. ``SaveNotes``            ours: each test's note and verdict, as the comment on its answer cell
11. ``AssignLatePenalties``  nbgrader
12. ``CheckCellMetadata``    nbgrader

Stock ``nbgrader autograde`` runs the two lists as two conversions, with the
sanitized notebook written to disk in between: ``resources`` does not cross,
so ``FlagReferenceImports`` and ``SealTests`` work from the notebook alone and
``CarryNotes``/``ReadNotes`` carry the notes over (``steps/notes.py``).

Feedback (``FEEDBACK``, ``nbgrader generate_feedback`` and ``grade-class --feedback``):
``GetGrades``, ``ClearHiddenOutput`` (ours: no traceback quotes a hidden test),
``ClearHiddenTests``, ``CSSHTMLHeaderPreprocessor``.

``sanitize`` and ``autograde`` below run these lists on one notebook, with
the kernel handed to the execute step explicitly; their configuration comes
from ``limits.as_config``. The notebook's time limit holds for every step up
to the execution (``GradingState.check_clock`` before each), not only for the
cells: a notebook padded with thousands of cells cannot overrun it in the
grader's own steps.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import ClearHiddenTests, Execute, GetGrades, OverwriteCells, SaveAutoGrades

from .metadata_schema import check_schema_once
from .steps import (
    AuditLockedCells,
    CarryNotes,
    CheckGradebook,
    ClearHiddenOutput,
    FlagReferenceImports,
    JudgeTests,
    MatchCells,
    ProbeExecute,
    ReadNotes,
    SaveNotes,
    SealTests,
    state,
)


def _sanitize_steps():
    steps = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    steps.insert(steps.index(OverwriteCells), AuditLockedCells)
    steps.insert(0, MatchCells)
    return [CheckGradebook, *steps, CarryNotes]


def _autograde_steps():
    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    at = steps.index(Execute)
    steps[at : at + 1] = [FlagReferenceImports, SealTests, ProbeExecute, JudgeTests]
    steps.insert(steps.index(SaveAutoGrades) + 1, SaveNotes)
    return [ReadNotes, *steps]


check_schema_once()  # nbgrader's CheckCellMetadata (in both passes) checks its fixed schema once, not per cell

SANITIZE = _sanitize_steps()
AUTOGRADE = _autograde_steps()
FEEDBACK = [GetGrades, ClearHiddenOutput, ClearHiddenTests, CSSHTMLHeaderPreprocessor]


def _run(steps, nb, resources, config, clocked=True):
    for step in steps:
        if clocked:
            state(resources).check_clock(f"in the grader's {step.__name__} step")
        nb, resources = step(config=config)(nb, resources)
    return nb, resources


def sanitize(nb, resources, config):
    """The sanitize pass (``SANITIZE``): the learner's notebook, with its locked cells restored."""
    return _run(SANITIZE, nb, resources, config)


def autograde(nb, resources, config, kernel):
    """The autograde pass (``AUTOGRADE``) on a sanitized notebook, run in ``kernel``.

    ``kernel`` is a ``kernel.SandboxKernelManager`` (not yet started, or
    adopting a kernel launched ahead); the caller shuts it down (a kernel
    of a restart is shut down by the execute step). Raises
    ``steps.LimitExceeded`` when the notebook runs out of time or its kernel
    dies twice; a cell that hits a limit otherwise costs only its own tests.
    """
    at = AUTOGRADE.index(ProbeExecute)
    nb, resources = _run(AUTOGRADE[:at], nb, resources, config)  # ReadNotes, FlagReferenceImports, SealTests
    # the learner's code runs here, in the sandbox: what comes back is data
    nb, resources = ProbeExecute(config=config).preprocess(nb, resources, km=kernel)
    # the verdict is made here, in this process, and SaveAutoGrades (below) scores it into the gradebook
    return _run(AUTOGRADE[at + 1 :], nb, resources, config, clocked=False)  # the run is over: its verdict counts
