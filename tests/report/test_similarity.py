"""Similarity for review: renamed and reformatted copies score 1, other code less; the class's pairs are exactly those built in."""

import ast
import builtins
import inspect
import random

import pytest
from testkit import mutants
from testkit.report_class import FINN_DENSE, NAIVE_SIGMOID, renamed

import nnbasics
from nnbasics.assignments import ASSIGNMENTS
from nnbasics.report import similarity

SOLUTIONS = [
    (a, gid, mutants.strip_markers(src))
    for a in ASSIGNMENTS
    for gid, src in mutants.solution_sources(a).items()
    if not gid.startswith("quiz_")
]


def test_the_class_pairs_are_exactly_those_built_in(report_json):
    found = {(p["assignment"], p["grade_id"], p["a"], p["b"]) for p in report_json["similar"]}
    assert found == {
        ("01_neuron", "neuron_forward", "ada", "hal"),  # hal copied ada, renamed and reformatted
        ("01_neuron", "dense_forward", "finn", "gus"),  # both copied the course's code
        ("01_neuron", "dense_forward", "finn", "nnbasics"),
        ("01_neuron", "dense_forward", "gus", "nnbasics"),
    }
    assert all(p["score"] == 1.0 for p in report_json["similar"])  # renaming and layout change nothing
    assert len(report_json["similar"]) == len(found)


def identifiers(source):
    """The names the author chose in ``source`` (arguments, locals, functions), but not keyword-argument names."""
    tree = ast.parse(source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    names |= {f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.ClassDef)}
    keywords = {k.arg for k in ast.walk(tree) if isinstance(k, ast.keyword)}  # f(axis=axis): part of an API
    return sorted(names - keywords - set(dir(builtins)))


@pytest.mark.parametrize(("assignment", "grade_id", "source"), SOLUTIONS, ids=[f"{a}-{g}" for a, g, _ in SOLUTIONS])
def test_renaming_reformatting_and_comments_do_not_change_the_score(assignment, grade_id, source):
    rng = random.Random(f"{assignment}-{grade_id}")
    names = {n: f"q{rng.randrange(10**6)}_{i}" for i, n in enumerate(identifiers(source))}
    disguised = "# my own work\n\n" + renamed(source, names).replace("\n", "  # noted\n", 3)
    assert similarity.similarity(source, disguised) == 1.0


@pytest.mark.parametrize(("assignment", "grade_id", "index", "label"), mutants.all_mutants()[::7])
def test_a_changed_answer_scores_below_one(assignment, grade_id, index, label):
    right = mutants.answers(assignment)[grade_id]
    wrong = mutants.answers(assignment, grade_id, index)[grade_id]
    score = similarity.similarity(right, wrong)
    assert score is not None and 0 <= score < 1, label


def test_different_algorithms_score_low():
    stable = mutants.answers("01_neuron")["sigmoid"]
    assert similarity.similarity(stable, NAIVE_SIGMOID) < 0.6


def test_short_and_unparsable_cells_are_not_compared():
    short = {"ann": NAIVE_SIGMOID, "bob": NAIVE_SIGMOID, "cy": NAIVE_SIGMOID}
    assert len(similarity.canonical(NAIVE_SIGMOID)) < similarity.MIN_TOKENS
    assert similarity.find_similar("01_neuron", "sigmoid", short) == ([], [])
    broken = {"ann": FINN_DENSE + "\ndef (:", "bob": FINN_DENSE + "\ndef (:"}
    assert similarity.canonical(broken["ann"]) is None
    assert similarity.find_similar("01_neuron", "dense_forward", broken)[0] == []


def test_a_copy_of_the_course_code_is_paired_with_nnbasics():
    source = inspect.getsource(nnbasics.softmax)
    copied = renamed(source, {"z": "logits", "e": "ex", "axis": "axis"})
    # as_float is the core's helper: a copier who does not define it still pairs on the function
    pairs, _ = similarity.find_similar("04_loss", "softmax", {"kim": copied})
    assert pairs == [{"assignment": "04_loss", "grade_id": "softmax", "a": "kim", "b": "nnbasics", "score": 1.0}]


def test_the_model_solutions_are_not_flagged_against_the_course_code():
    """The notebooks' own answers are written apart from the core: none reaches the threshold."""
    for assignment, grade_id, source in SOLUTIONS:
        pairs, _ = similarity.find_similar(assignment, grade_id, {"model": source})
        assert pairs == [], (assignment, grade_id, pairs)


def test_a_common_answer_is_left_out_and_a_small_group_is_listed():
    long_answer = mutants.answers("01_neuron")["neuron_forward"]
    other = renamed(long_answer, {"z": "pre"}).replace('"tanh"', '"tanh_"')  # near-identical
    cells = {f"s{i:02d}": long_answer for i in range(5)} | {"x1": FINN_DENSE, "x2": FINN_DENSE}
    pairs, common = similarity.find_similar("01_neuron", "neuron_forward", cells)
    assert similarity.common_limit(len(cells)) == 3
    assert common == [{f"s{i:02d}" for i in range(5)}]  # 5 of 7 share it: the common answer
    assert [(p["a"], p["b"]) for p in pairs] == [("x1", "x2")]
    pairs, common = similarity.find_similar("01_neuron", "neuron_forward", {"a": long_answer, "b": other})
    assert common == [] and len(pairs) == 1 and similarity.THRESHOLD <= pairs[0]["score"] < 1


def test_reference_source_is_the_core_function():
    assert "def sigmoid" in similarity.reference_source("sigmoid")
    assert similarity.reference_source("quiz_1") is None
    assert "class Value" in similarity.reference_source("Value")
