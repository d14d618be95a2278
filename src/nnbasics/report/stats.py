"""Item analysis of one assignment: pass rates, discrimination, failure messages, score summaries.

Everything here is over the *graded* submissions only: a crashed or invalid
submission says nothing about which tests are hard.

Discrimination is classical item analysis's corrected item-total
correlation, as PrairieLearn reports it: the Pearson correlation between
passing the test (1 or 0) and the rest of the student's score (the total
minus this test's points). Pearson's r with a 0/1 variable is the
point-biserial correlation. It is undefined (None) when every student passed
or every student failed the test, when the rest of the score is the same for
everyone, or with fewer than ``MIN_STUDENTS`` graded submissions.
"""

import itertools
import math
from collections import Counter

MIN_STUDENTS = 3
NO_MESSAGE = "(the test failed without a message)"


def pearson(x, y):
    """Pearson's correlation of two equally long sequences of numbers; None when a variance is 0 or n < 3.

    Parameters
    ----------
    x, y : sequence of float, length n

    Returns
    -------
    float or None
    """
    n = len(x)
    if n != len(y):
        raise ValueError(f"pearson needs sequences of one length, got {n} and {len(y)}")
    if n < MIN_STUDENTS:
        return None
    mx, my = math.fsum(x) / n, math.fsum(y) / n
    dx, dy = [v - mx for v in x], [v - my for v in y]
    sxx, syy = math.fsum(d * d for d in dx), math.fsum(d * d for d in dy)
    if sxx <= 1e-12 * max(1.0, mx * mx) * n or syy <= 1e-12 * max(1.0, my * my) * n:
        return None  # a constant (up to rounding) has no correlation
    r = math.fsum(a * b for a, b in zip(dx, dy)) / math.sqrt(sxx * syy)
    return max(-1.0, min(1.0, r))


def failure_message(test):
    """The message a failed test gave the learner (one line per misconception), or ``NO_MESSAGE``."""
    message = " ".join(str(test.get("feedback") or "").split())
    return message or NO_MESSAGE


def item_analysis(test_ids, graded):
    """Per-test statistics of one assignment.

    Parameters
    ----------
    test_ids : list of str
        The assignment's test grade_ids, in notebook order.
    graded : list of dict
        One ``{grade_id: test record}`` per graded submission (records as in
        ``nnbasics grade --json``: ``score``, ``max_score``, ``passed``,
        ``feedback``).

    Returns
    -------
    dict
        ``{grade_id: {"pass_rate", "discrimination", "messages"}}``, hardest
        test first (lowest pass rate; ties in notebook order). ``pass_rate``
        is None without graded submissions; ``messages`` is
        ``[[message, count], ...]``, most frequent first (ties by text).
    """
    totals = [math.fsum(t["score"] for t in tests.values()) for tests in graded]
    stats = {}
    for gid in test_ids:
        records = [tests.get(gid) for tests in graded]
        passed = [1.0 if r is not None and r["passed"] else 0.0 for r in records]
        rest = [total - (r["score"] if r is not None else 0.0) for total, r in zip(totals, records)]
        counts = Counter(failure_message(r) for r in records if r is not None and not r["passed"])
        stats[gid] = {
            "pass_rate": round(math.fsum(passed) / len(passed), 4) if passed else None,
            "discrimination": _rounded(pearson(passed, rest)),
            "messages": [[m, n] for m, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))],
        }
    order = {gid: i for i, gid in enumerate(test_ids)}
    hardest = sorted(stats, key=lambda g: (stats[g]["pass_rate"] if stats[g]["pass_rate"] is not None else 2, order[g]))
    return {gid: stats[gid] for gid in hardest}


def _rounded(value, digits=4):
    return None if value is None else round(value, digits)


def score_summary(scores, max_score, most=20):
    """Mean, median and a histogram of total scores.

    Parameters
    ----------
    scores : list of float
        Graded submissions' totals.
    max_score : float
    most : int
        At most about this many bins. When ``max_score`` is a whole number
        of at most ``most`` points, one bin per whole score (a partial-credit
        score counts in the nearest); otherwise equal bins from 0 to the top,
        the last one closed.

    Returns
    -------
    dict
        ``mean`` and ``median`` (None without scores), and ``bins``: a list
        of ``{"low", "high", "count", "label"}``, ``label`` such as ``"11"``
        or ``"8 to under 10"``.
    """
    top = max([max_score, *scores]) or 1.0
    if float(top).is_integer() and top <= most:
        k = int(top) + 1
        edges = [i - 0.5 for i in range(k + 1)]
        index = [min(k - 1, max(0, math.floor(s + 0.5))) for s in scores]
        labels = [_g(i) for i in range(k)]
    else:
        width = math.ceil(top / most) if float(top).is_integer() else top / most
        k = math.ceil(top / width)
        edges = [width * i for i in range(k + 1)]
        index = [min(k - 1, max(0, int(s // width))) for s in scores]
        labels = [
            f"{_g(lo)} to {'' if i == k - 1 else 'under '}{_g(hi)}"
            for i, (lo, hi) in enumerate(itertools.pairwise(edges))
        ]
    counts = Counter(index)
    ordered = sorted(scores)
    n = len(ordered)
    median = None if not n else (ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2)
    return {
        "mean": math.fsum(scores) / n if n else None,
        "median": median,
        "bins": [
            {"low": lo, "high": hi, "count": counts.get(i, 0), "label": labels[i]}
            for i, (lo, hi) in enumerate(itertools.pairwise(edges))
        ],
    }


def _g(x):
    return format(round(x, 4), "g")
