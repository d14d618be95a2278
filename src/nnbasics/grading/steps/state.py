"""What the pipeline steps share: one typed object in ``resources["nnbasics"]``, and the limit error.

nbgrader hands every preprocessor the same ``resources`` dict. Our steps keep
everything they pass to each other in one ``GradingState`` under one key, so
that a reader finds the whole hand-over here:

- ``MatchCells`` and ``AuditLockedCells`` write ``notes`` (what was repaired);
- ``FlagReferenceImports`` writes ``flagged`` (tests whose answer imports the reference);
- ``SealTests`` writes ``sealed`` (each test's cases, nonce and trusted source);
- ``ProbeExecute`` reads ``sealed`` (to know the probe cells) and writes ``guilty`` (tests a
  cell that hit a limit costs), ``too_large`` (results refused for their size),
  ``buffers`` (the arrays a record sent as raw frames) and ``cell_errors`` (why a
  name may be undefined: its cell failed);
- ``JudgeTests`` reads all of these and writes ``verdicts``.

The notebook's clock (``deadline``) is started by whoever starts grading it
(``grade.grade``, or ``ProbeExecute`` at its first cell when run on its own):
the notebook time limit covers every step, not only the execution.

Only plain data lives here: never a kernel or another live object, because
nbconvert may copy ``resources``.
"""

from dataclasses import dataclass, field
from time import monotonic
from typing import NamedTuple

KEY = "nnbasics"


class Case(NamedTuple):
    """One ``check(...)`` call of a test cell, recorded in the grader's process."""

    fn: object
    args: object
    kwargs: dict
    expect: object
    rtol: float
    atol: float
    msg: str
    given: dict  # names bound to trusted stand-ins in the learner function's globals during the call


@dataclass
class Sealed:
    """A test cell as the grader keeps it while the kernel runs its probe."""

    cases: list  # of Case
    nonce: str  # the probe's result must carry it: a forged or stale record fails
    source: str  # the trusted test-cell source, put back into the graded notebook


@dataclass
class GradingState:
    """Everything our steps hand to each other while one notebook is graded."""

    notes: dict = field(default_factory=dict)  # grade_id -> a note for the learner (a repaired cell)
    flagged: set = field(default_factory=set)  # test grade_ids scored 0: their answer imports nnbasics
    sealed: dict = field(default_factory=dict)  # test grade_id -> Sealed
    verdicts: dict = field(default_factory=dict)  # test grade_id -> failure message, or None when it passed
    guilty: dict = field(default_factory=dict)  # test grade_id -> why its cell's limit costs it its points
    too_large: dict = field(default_factory=dict)  # test grade_id -> bytes of a result too large to keep
    buffers: dict = field(default_factory=dict)  # test grade_id -> the raw frames (bytes) its record came with
    cell_errors: dict = field(default_factory=dict)  # name -> what happened to the cell meant to define it
    deadline: float | None = None  # time.monotonic() by which the notebook must be graded
    time_limit: float = 0.0  # the notebook time limit (seconds) the deadline comes from

    def start_clock(self, seconds, started=None):
        """Start the notebook's time limit (once): ``seconds`` from ``started`` (a ``monotonic()``), or now."""
        if self.deadline is None:
            self.deadline, self.time_limit = (monotonic() if started is None else started) + seconds, seconds

    def check_clock(self, doing=""):
        """Raise ``LimitExceeded`` if the notebook's time is up; ``doing`` says what was under way."""
        if self.deadline is not None and monotonic() > self.deadline:
            raise LimitExceeded(out_of_time(self.time_limit, doing))


def state(resources):
    """The ``GradingState`` of this notebook's ``resources`` (created on first use)."""
    current = resources.get(KEY)
    if not isinstance(current, GradingState):
        current = resources[KEY] = GradingState()
    return current


class LimitExceeded(Exception):
    """The notebook could not be graded within its limits (time, or a kernel that died twice); the message says why."""


def out_of_time(seconds, doing=""):
    """The sentence of a notebook that ran out of time; ``doing`` names what was under way (a cell)."""
    return f"the notebook took longer than its {seconds:g} s time limit" + (f" ({doing})" if doing else "")
