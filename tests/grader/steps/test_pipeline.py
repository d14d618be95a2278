"""The pipeline reads as its docstring says: nbgrader's steps in nbgrader's order, ours spliced in."""

import re

from nbgrader.converters.autograde import Autograde

from nnbasics.grading import pipeline


def documented(section):
    """The step names listed under ``section`` in pipeline.py's docstring, in order (one per numbered line)."""
    text = pipeline.__doc__.split(section, 1)[1].split("\n\n", 2)[1]
    return [m[1] for m in re.finditer(r"^\d+\. ``(\w+)``", text, re.M)]


def names(steps):
    return [s.__name__ for s in steps]


def test_the_docstring_lists_the_steps_that_run():
    assert names(pipeline.SANITIZE) == documented("Sanitize (")
    assert names(pipeline.AUTOGRADE) == documented("Autograde (")


def test_nbgrader_steps_keep_nbgrader_order():
    for ours, trait in ((pipeline.SANITIZE, "sanitize_preprocessors"), (pipeline.AUTOGRADE, "autograde_preprocessors")):
        stock = [s for s in Autograde.class_traits()[trait].default() if s.__name__ != "Execute"]
        assert [s for s in ours if s in stock] == stock
