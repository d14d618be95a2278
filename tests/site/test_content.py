"""The concept pages' Markdown: quizzes (answer positions, feedback, accessible options) and shown code.

Parsed from ``docs/*.md`` as mkdocs-quiz reads it: a ``<quiz>`` block holds a
question, then options ``- [x]`` (right) or ``- [ ]`` (wrong), each followed by
its feedback lines ``  > ...``. The convention tested here: the right option's
feedback is ``Right.`` followed by the reason the answer is right, and every
wrong option's feedback says why it is wrong and then gives that same reason,
so a learner is told why the right answer is right whichever option they pick.
"""

import re
from pathlib import Path

import pytest

from nnbasics.assignments import PAGES

ROOT = Path(__file__).resolve().parents[2]
CONCEPT_PAGES = list(PAGES.values())

# The widest line of a shown code block (characters): the column at 1280 px holds about 80 (measured in
# test_legibility.py, which checks the rendered blocks do not scroll); a margin for a wider monospace font.
MAX_CODE_LINE = 78


def _source(page):
    return (ROOT / "docs" / page).read_text(encoding="utf-8")


def parse_quizzes(text):
    """Every quiz of a page: ``{"question", "options": [{"text", "right", "feedback"}]}``."""
    quizzes = []
    for body in re.findall(r"<quiz>\n(.*?)\n</quiz>", text, re.S):
        question, options = [], []
        for line in body.splitlines():
            option = re.match(r"^- \[([ xX])\] (.*)$", line)
            feedback = re.match(r"^\s+> ?(.*)$", line)
            if option:
                options.append({"text": option[2], "right": option[1] != " ", "feedback": ""})
            elif feedback and options:
                options[-1]["feedback"] = (options[-1]["feedback"] + " " + feedback[1]).strip()
            elif not options:
                question.append(line)
        quizzes.append({"question": " ".join(question).strip(), "options": options})
    return quizzes


def _words(markdown):
    """The words of a piece of Markdown outside its math and code: what a screen reader has before math renders."""
    plain = re.sub(r"\$[^$]+\$", " ", markdown)
    plain = re.sub(r"`[^`]+`", " ", plain)
    return re.findall(r"[A-Za-z]{2,}", plain)


@pytest.mark.parametrize("page", CONCEPT_PAGES)
def test_quiz_answers_are_spread_over_positions(page):
    quizzes = parse_quizzes(_source(page))
    assert len(quizzes) >= 4
    positions = []
    for quiz in quizzes:
        right = [i for i, o in enumerate(quiz["options"]) if o["right"]]
        assert len(right) == 1, quiz["question"]
        positions.append(right[0])
    counts = {p: positions.count(p) for p in set(positions)}
    assert max(counts.values()) <= 0.4 * len(quizzes), f"{page}: right answer at positions {positions}"


@pytest.mark.parametrize("page", CONCEPT_PAGES)
def test_every_feedback_explains_the_right_answer(page):
    for quiz in parse_quizzes(_source(page)):
        right = next(o for o in quiz["options"] if o["right"])
        assert right["feedback"].startswith("Right. "), quiz["question"]
        reason = right["feedback"].removeprefix("Right. ")
        assert reason.startswith("The answer is ") and len(_words(reason)) >= 8, reason
        for option in quiz["options"]:
            assert option["feedback"], f"{quiz['question']}: option {option['text']!r} has no feedback"
            if not option["right"]:
                why_wrong = option["feedback"].removesuffix(reason).strip()
                assert option["feedback"].endswith(reason), f"{option['text']!r} does not explain the right answer"
                assert len(_words(why_wrong)) >= 3, f"{option['text']!r}: no word on why it is wrong"


@pytest.mark.parametrize("page", CONCEPT_PAGES)
def test_every_option_has_words_besides_its_formula(page):
    for quiz in parse_quizzes(_source(page)):
        assert _words(quiz["question"]), quiz["question"]
        for option in quiz["options"]:
            assert _words(option["text"]), f"{page}: option {option['text']!r} is only a formula or code"


def test_the_quiz_parser_sees_a_bad_quiz():
    bad = "<quiz>\nQ?\n- [x] $a$\n  > Right. The answer is a.\n- [ ] $b$\n  > No.\n</quiz>"
    (quiz,) = parse_quizzes(bad)
    assert [o["right"] for o in quiz["options"]] == [True, False]
    assert not _words(quiz["options"][0]["text"])  # formula only: the test above would fail it
    assert not quiz["options"][1]["feedback"].endswith("The answer is a.")


def _shown_code(page):
    """The source lines of the page's code blocks that the site shows (``source="above"``, or plain fences)."""
    lines = []
    for indent, _language, body in re.findall(r"^( *)```(\w*)([^\n]*\n.*?)\n\1```$", _source(page), re.S | re.M):
        head, _, code = body.partition("\n")
        if 'exec="on"' in head and 'source="above"' not in head:
            continue  # generated prose: its code is not shown
        lines += [line.removeprefix(indent) for line in code.splitlines()]
    return lines


@pytest.mark.parametrize("page", CONCEPT_PAGES)
def test_shown_code_lines_fit_the_column(page):
    wide = [line for line in _shown_code(page) if len(line) > MAX_CODE_LINE]
    assert not wide, f"{page}: lines wider than {MAX_CODE_LINE} characters:\n" + "\n".join(wide)


PLOTTING = re.compile(r"\b(?:ax|axes|fig|left|right)\.\w+\(|\bfigure\(|\.(?:plot|semilogy|set_\w+|legend|contourf)\(")


@pytest.mark.parametrize("page", CONCEPT_PAGES)
def test_shown_code_has_no_plotting_calls(page):
    """Plotting lives in nnbasics.site.figures: each shown block is the idea (core calls) and one ``figures`` call."""
    plotting = [line for line in _shown_code(page) if PLOTTING.search(line)]
    assert not plotting, f"{page}: plotting calls in the shown code:\n" + "\n".join(plotting)
    assert any("figures.show(" in line for line in _shown_code(page))
