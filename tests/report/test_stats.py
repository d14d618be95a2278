"""The item analysis: exact numbers on the synthetic class, an independent recomputation from the CSVs, and units.

Expected values come from the class's construction (tests/report/conftest.py),
the closed form of the point-biserial correlation
``r = (M1 - M0) / s * sqrt(p q)`` (M1, M0 the mean rest-score of those who
passed and failed, s its population standard deviation, p and q the shares
passing and failing), and a Pearson product-moment correlation written here.
"""

import csv
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testkit.report_class import GRADED, HARDEST_FIRST

from nnbasics.report import stats

POINTS = {
    "test_weighted_sum": 2,
    "test_sigmoid": 2,
    "test_relu": 2,
    "test_neuron_forward": 2,
    "test_dense_forward": 2,
    "test_quiz_1": 1,
    "test_quiz_2": 1,
    "test_quiz_3": 1,
    "test_quiz_4": 1,
}
# who fails what, by construction
FAILS = {"ada": {"test_quiz_2"}, "ben": {"test_quiz_2"}, "cara": {"test_sigmoid", "test_relu"}}
FAILS |= {"dan": {"test_sigmoid", "test_relu"}, "eve": {"test_sigmoid"}}


def closed_form_point_biserial(test):
    """(M1 - M0) / s * sqrt(p q) over the graded students of the construction table."""
    total = {s: sum(p for t, p in POINTS.items() if t not in FAILS.get(s, ())) for s in GRADED}
    passed = [s for s in GRADED if test not in FAILS.get(s, ())]
    failed = [s for s in GRADED if test in FAILS.get(s, ())]
    rest = {s: total[s] - (POINTS[test] if s in passed else 0) for s in GRADED}
    mean = sum(rest.values()) / len(rest)
    sd = math.sqrt(sum((r - mean) ** 2 for r in rest.values()) / len(rest))
    m1 = sum(rest[s] for s in passed) / len(passed)
    m0 = sum(rest[s] for s in failed) / len(failed)
    p = len(passed) / len(GRADED)
    return (m1 - m0) / sd * math.sqrt(p * (1 - p))


def my_pearson(x, y):
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    cov = sum((a - mx) * (b - my) for a, b in zip(x, y))
    vx, vy = sum((a - mx) ** 2 for a in x), sum((b - my) ** 2 for b in y)
    return None if vx == 0 or vy == 0 else cov / math.sqrt(vx * vy)


def test_grade_class_graded_the_class_as_constructed(graded_class):
    assert graded_class["returncode"] == 1, graded_class["stderr"][-3000:]  # a crash and an invalid file
    assert "Traceback" not in graded_class["stderr"]
    assert (graded_class["report"] / "index.html").is_file()


def test_counts_by_status(report_json):
    entry = report_json["assignments"]["01_neuron"]
    assert list(report_json["assignments"]) == ["01_neuron"]
    assert entry["submissions"] == 10
    assert entry["status"] == {"graded": 8, "crashed": 1, "invalid": 1, "missing": 0}


def test_pass_rates_and_order_are_those_of_the_construction(report_json):
    tests = report_json["assignments"]["01_neuron"]["tests"]
    expected = {t: sum(t not in FAILS.get(s, ()) for s in GRADED) / len(GRADED) for t in POINTS}
    assert {t: v["pass_rate"] for t, v in tests.items()} == pytest.approx(expected, abs=1e-9)
    assert expected["test_sigmoid"] == 5 / 8 and expected["test_relu"] == expected["test_quiz_2"] == 6 / 8
    # hardest first; ties in notebook order
    assert list(tests) == list(HARDEST_FIRST)


def test_discrimination_signs_and_values(report_json):
    tests = report_json["assignments"]["01_neuron"]["tests"]
    # cara and dan fail sigmoid and relu, so failing either goes with a lower rest: positive
    assert tests["test_sigmoid"]["discrimination"] > 0.3
    assert tests["test_relu"]["discrimination"] > 0.3
    # the two who miss quiz_2 do well on everything else: negative
    assert tests["test_quiz_2"]["discrimination"] < -0.3
    for test in ("test_sigmoid", "test_relu", "test_quiz_2"):
        assert tests[test]["discrimination"] == pytest.approx(closed_form_point_biserial(test), abs=1e-4)
    for test in ("test_weighted_sum", "test_neuron_forward", "test_dense_forward", "test_quiz_1", "test_quiz_4"):
        assert tests[test]["discrimination"] is None  # everyone passed: no variance


def test_failure_messages_counted_per_misconception(report_json):
    tests = report_json["assignments"]["01_neuron"]["tests"]
    [(sigmoid, n_sigmoid)] = tests["test_sigmoid"]["messages"]
    assert n_sigmoid == 3 and "overflow" in sigmoid and "sigmoid" in sigmoid
    [(relu, n_relu)] = tests["test_relu"]["messages"]
    assert n_relu == 2 and "relu" in relu
    [(quiz, n_quiz)] = tests["test_quiz_2"]["messages"]
    assert n_quiz == 2 and "'a'" in quiz
    assert all(not tests[t]["messages"] for t in ("test_weighted_sum", "test_neuron_forward", "test_quiz_1"))


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def class_totals(path):
    """``{student: score}`` of the grade-class CSV's graded rows (its student column is ``student_id``,
    or ``student`` in the CSV of older versions)."""
    rows = read_csv(path)
    key = "student_id" if "student_id" in rows[0] else "student"
    return {r[key]: float(r["score"]) for r in rows if r["status"] == "graded"}


def test_independent_recomputation_from_the_csvs(graded_class, report_json):
    rows = read_csv(graded_class["report"] / "tests.csv")
    assert list(rows[0]) == "student_id,assignment,grade_id,score,max_score,status,message".split(",")
    assert len(rows) == 10 * len(POINTS)  # one row per student and test, crashed and invalid included
    totals = class_totals(graded_class["csv"])
    assert sorted(totals) == sorted(GRADED)
    lms = {r["student_id"]: r for r in read_csv(graded_class["report"] / "submissions.csv")}
    assert {s: float(lms[s]["score"]) for s in GRADED} == totals
    graded = [r for r in rows if r["status"] == "graded"]
    for test, stat in report_json["assignments"]["01_neuron"]["tests"].items():
        mine = sorted((r for r in graded if r["grade_id"] == test), key=lambda r: r["student_id"])
        passed = [1.0 if float(r["score"]) == float(r["max_score"]) else 0.0 for r in mine]
        rest = [totals[r["student_id"]] - float(r["score"]) for r in mine]
        assert stat["pass_rate"] == pytest.approx(sum(passed) / len(passed), abs=1e-4)
        r = my_pearson(passed, rest)
        assert (stat["discrimination"] is None) == (r is None), test
        if r is not None:
            assert stat["discrimination"] == pytest.approx(r, abs=1e-4), test
        counts = {}
        for row in mine:
            if row["message"]:
                counts[row["message"]] = counts.get(row["message"], 0) + 1
        assert {m: n for m, n in stat["messages"]} == counts
        assert all((row["message"] == "") == (p == 1.0) for row, p in zip(mine, passed))  # empty when passed


def test_crashed_and_invalid_rows_carry_no_points(graded_class):
    rows = [r for r in read_csv(graded_class["report"] / "tests.csv") if r["student_id"] in ("ivy", "jo")]
    assert {r["status"] for r in rows} == {"crashed", "invalid"}
    assert all(r["score"] == "" and r["message"] for r in rows)  # never an honest 0, always a reason
    lms = {r["student_id"]: r for r in read_csv(graded_class["report"] / "submissions.csv")}
    assert lms["ivy"]["status"] == "crashed" and lms["ivy"]["score"] == "" and "kernel" in lms["ivy"]["reason"]
    assert lms["jo"]["status"] == "invalid" and "not valid JSON" in lms["jo"]["reason"]
    assert list(lms["ada"]) == "student_id,assignment,status,score,max_score,reason,graded_at,notebook_sha256".split(
        ","
    )


# -- units ------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.integers(0, 40)), min_size=3, max_size=40),
)
def test_pearson_of_a_binary_variable_is_the_point_biserial_closed_form(pairs):
    x = [1.0 if b else 0.0 for b, _ in pairs]
    y = [float(v) for _, v in pairs]
    r = stats.pearson(x, y)
    n, ones = len(x), sum(x)
    mean = sum(y) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in y) / n)
    if ones in (0, n) or sd == 0:
        assert r is None
        return
    m1 = sum(v for b, v in zip(x, y) if b) / ones
    m0 = sum(v for b, v in zip(x, y) if not b) / (n - ones)
    p = ones / n
    assert r == pytest.approx((m1 - m0) / sd * math.sqrt(p * (1 - p)), abs=1e-9)


def test_pearson_edges():
    assert stats.pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert stats.pearson([1, 2, 3], [6, 4, 2]) == pytest.approx(-1.0)
    assert stats.pearson([1, 2, 3], [5, 5, 5]) is None
    assert stats.pearson([0, 1], [3, 4]) is None  # fewer than 3: undefined here
    with pytest.raises(ValueError):
        stats.pearson([1, 2, 3], [1, 2])


def test_item_analysis_counts_messages_most_frequent_first_ties_by_text():
    def rec(passed, feedback=None, points=1.0):
        return {"score": points if passed else 0.0, "max_score": points, "passed": passed, "feedback": feedback}

    graded = [
        {"t1": rec(False, "b  misconception"), "t2": rec(True)},
        {"t1": rec(False, "a misconception"), "t2": rec(True)},
        {"t1": rec(False, "b misconception"), "t2": rec(False)},
        {"t1": rec(True), "t2": rec(True)},
    ]
    out = stats.item_analysis(["t1", "t2"], graded)
    assert list(out) == ["t1", "t2"]
    assert out["t1"]["pass_rate"] == 0.25 and out["t2"]["pass_rate"] == 0.75
    assert out["t1"]["messages"] == [["b misconception", 2], ["a misconception", 1]]
    assert out["t2"]["messages"] == [[stats.NO_MESSAGE, 1]]
    assert stats.item_analysis(["t1"], [])["t1"] == {"pass_rate": None, "discrimination": None, "messages": []}


def test_score_summary_bins_and_median():
    s = stats.score_summary([8, 8, 10, 11, 11, 12, 12, 12], 12)
    assert s["mean"] == 10.5 and s["median"] == 11
    assert [b["label"] for b in s["bins"]] == [str(i) for i in range(13)]
    assert {b["label"]: b["count"] for b in s["bins"] if b["count"]} == {"8": 2, "10": 1, "11": 2, "12": 3}
    wide = stats.score_summary([0, 49.5, 100], 100)
    assert len(wide["bins"]) == 20 and wide["median"] == 49.5
    assert wide["bins"][-1]["label"] == "95 to 100" and wide["bins"][-1]["count"] == 1
    assert wide["bins"][9]["label"] == "45 to under 50" and wide["bins"][9]["count"] == 1
    empty = stats.score_summary([], 12)
    assert empty["mean"] is None and empty["median"] is None and sum(b["count"] for b in empty["bins"]) == 0


def test_an_assignment_with_nothing_graded_has_no_statistics(tmp_path):
    from nnbasics import report
    from nnbasics.report import data, page

    points = {"01_neuron": data.test_points("01_neuron")}
    subs = {
        ("ann", "01_neuron"): data.Submission("ann", "01_neuron", "invalid", None, 12.0, reason="not JSON"),
        ("bob", "01_neuron"): data.Submission("bob", "01_neuron", "missing", None, 12.0, reason="no notebook"),
    }
    klass = data.ClassResults(tmp_path / "submitted", tmp_path / "j", ["01_neuron"], ["ann", "bob"], subs, [], points)
    result, summaries, common = report.analyse(klass)
    entry = result["assignments"]["01_neuron"]
    assert entry["submissions"] == 1 and entry["status"] == {"graded": 0, "crashed": 0, "invalid": 1, "missing": 1}
    assert all(t == {"pass_rate": None, "discrimination": None, "messages": []} for t in entry["tests"].values())
    html = page.render(klass, result, summaries, common)
    assert "<svg" not in html and "No submission was graded" in html and "not JSON" in html
    rows = report.tests_rows(klass)
    assert len(rows) == 2 * len(points["01_neuron"]) and all(r["score"] == "" for r in rows)
