"""The route from a learner's notebook to its verdict: nbgrader's autograde pipelines with our steps in them.

nbgrader autogrades a notebook in two passes, each a list of preprocessors
(configurable as ``Autograde.sanitize_preprocessors`` and
``Autograde.autograde_preprocessors``). We keep nbgrader's steps, in
nbgrader's order, and splice ours in (``steps/``, one module each):

Sanitize (``SANITIZE``), on the learner's cells:

1. ``MatchCells``            ours: restore grade_ids an editor stripped
2. ``ClearOutput``           nbgrader
3. ``DeduplicateIds``        nbgrader
4. ``OverwriteKernelspec``   nbgrader
5. ``AuditLockedCells``      ours: note edited or deleted locked cells
6. ``OverwriteCells``        nbgrader: locked cells back to the released source
7. ``CheckCellMetadata``     nbgrader

Autograde (``AUTOGRADE``):

1. ``FlagReferenceImports``  ours: answers that import nnbasics will score 0
2. ``SealTests``             ours: test cells become probes; expectations stay in this process
3. ``ProbeExecute``          in place of nbgrader's ``Execute``: the notebook runs in the sandboxed kernel
4. ``JudgeTests``            ours: the verdict, taken here from the probes' data
5. ``IgnorePattern``        nbgrader
6. ``ClearMetadataPreprocessor``  nbgrader (nbconvert's; off unless configured)
7. ``LimitOutput``           nbgrader
8. ``SaveAutoGrades``        nbgrader: scores the verdicts into the gradebook
9. ``AssignLatePenalties``   nbgrader
10. ``CheckCellMetadata``    nbgrader

``sanitize`` and ``autograde`` below run these lists on one notebook, with
the kernel handed to the execute step explicitly; their configuration comes
from ``limits.as_config``. The notebook's time limit holds for every step up
to the execution (``GradingState.check_clock`` before each), not only for the
cells: a notebook padded with thousands of cells cannot overrun it in the
grader's own steps.
"""

from nbgrader.converters.autograde import Autograde
from nbgrader.preprocessors import Execute, OverwriteCells

from .steps import AuditLockedCells, FlagReferenceImports, JudgeTests, MatchCells, ProbeExecute, SealTests, state


def _sanitize_steps():
    steps = list(Autograde.class_traits()["sanitize_preprocessors"].default())
    steps.insert(steps.index(OverwriteCells), AuditLockedCells)
    steps.insert(0, MatchCells)
    return steps


def _autograde_steps():
    steps = list(Autograde.class_traits()["autograde_preprocessors"].default())
    at = steps.index(Execute)
    steps[at : at + 1] = [FlagReferenceImports, SealTests, ProbeExecute, JudgeTests]
    return steps


SANITIZE = _sanitize_steps()
AUTOGRADE = _autograde_steps()


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
    nb, resources = _run(AUTOGRADE[:at], nb, resources, config)  # FlagReferenceImports, SealTests
    # the learner's code runs here, in the sandbox: what comes back is data
    nb, resources = ProbeExecute(config=config).preprocess(nb, resources, km=kernel)
    # the verdict is made here, in this process, and SaveAutoGrades (below) scores it into the gradebook
    return _run(AUTOGRADE[at + 1 :], nb, resources, config, clocked=False)  # the run is over: its verdict counts
