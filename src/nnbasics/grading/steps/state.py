"""What the pipeline steps share: one typed object in ``resources["nnbasics"]``, and the limit error.

nbgrader hands every preprocessor the same ``resources`` dict. Our steps keep
everything they pass to each other in one ``GradingState`` under one key, so
that a reader finds the whole hand-over here:

- ``MatchCells`` and ``AuditLockedCells`` write ``notes`` (what was repaired);
- ``FlagReferenceImports`` writes ``flagged`` (tests whose answer imports the reference);
- ``SealTests`` writes ``sealed`` (each test's cases, nonce and trusted source);
- ``ProbeExecute`` reads ``sealed`` (to know the probe cells);
- ``JudgeTests`` reads ``sealed`` and ``flagged`` and writes ``verdicts``.

Only plain data lives here: never a kernel or another live object, because
nbconvert may copy ``resources``.
"""

from dataclasses import dataclass, field
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


def state(resources):
    """The ``GradingState`` of this notebook's ``resources`` (created on first use)."""
    current = resources.get(KEY)
    if not isinstance(current, GradingState):
        current = resources[KEY] = GradingState()
    return current


class LimitExceeded(Exception):
    """The learner's notebook hit a time, memory or output limit; the message says which."""
