"""The learner's feedback page (``nnbasics grade --html DIR``): nbgrader's feedback HTML, self-contained and offline.

It is nbgrader's own feedback template (the ``feedback`` template of its
formgrader, exported the way ``nbgrader generate_feedback`` does, with the
steps nbgrader_config.py gives ``GenerateFeedback``: ``pipeline.FEEDBACK``),
so hidden tests, and the tracebacks that quote them, are never shown, with
four changes:

- a summary on top: every test's name, points, result and feedback, and the
  concept page to read again (``nnbasics.assignments.site_link``);
- math rendered when the page is written: the TeX of the Markdown cells
  becomes MathML (latex2mathml), which browsers draw themselves, instead of
  nbgrader's MathJax from a CDN (``templates/nnbasics_feedback/mathjax.html.j2``
  empties that macro);
- the test-helpers cell (hundreds of lines) folded in a ``<details>``;
- the page refers to no other host: its CSS is inlined, and anything that
  would still load from elsewhere is removed before the file is written.
"""

import copy
import html
import os
import re
import sys
from pathlib import Path

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_markdown_cell

from ..assignments import ASSIGNMENTS, site_link
from .course import run_steps
from .pipeline import FEEDBACK

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_FILE = "nnbasics.html.j2"  # in templates/nnbasics_feedback/; extends nbgrader's feedback index.html.j2

# code is left alone: fenced blocks and inline code spans are cut out before math is looked for
_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
# $$...$$ and \[...\] (display), then $...$ and \(...\) (inline); a $ before a digit is a price, not math
_MATH = re.compile(
    r"\$\$(?P<d1>.+?)\$\$|\\\[(?P<d2>.+?)\\\]|(?<![\\$\w])\$(?!\s)(?P<i1>[^$\n]+?)(?<![\s\\])\$(?!\d)|\\\((?P<i2>.+?)\\\)",
    re.S,
)


def tex_to_mathml(tex, display):
    """MathML for ``tex`` (block or inline), or the TeX itself, escaped, if latex2mathml cannot read it."""
    from latex2mathml.converter import convert

    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # latex2mathml raises many kinds for TeX it does not know: show the source then
        return f"<code>{html.escape(tex)}</code>"


def math_to_mathml(markdown):
    """``markdown`` with each formula outside code replaced by a placeholder; returns (text, {placeholder: MathML}).

    Placeholders are plain words, so the Markdown renderer passes them through unchanged.
    """
    found = {}

    def replace(match):
        tex = next(g for g in match.group("d1", "d2", "i1", "i2") if g is not None)
        key = f"nnbasicsmath{len(found)}x"
        found[key] = tex_to_mathml(tex, match.group("d1") is not None or match.group("d2") is not None)
        return key

    parts = _CODE.split(markdown)
    text = "".join(part if i % 2 else _MATH.sub(replace, part) for i, part in enumerate(parts))
    return text, found


class OfflineFeedbackExporter(HTMLExporter):
    """nbgrader's feedback template with math as MathML (``markdown2html`` converts it) and no CDN."""

    @pass_context  # as nbconvert's own: the filter reads the cell from the template context
    def markdown2html(self, context, source):
        text, formulas = math_to_mathml(source)
        rendered = super().markdown2html(context, text)
        for key, mathml in formulas.items():
            rendered = rendered.replace(key, mathml)
        return rendered


def summary_cell(tests, assignment):
    """A Markdown cell (raw HTML, no blank line) with the results table and the page to read again."""
    rows = "".join(
        "<tr>"
        f"<td><a href='#{html.escape(t['grade_id'])}'><code>{html.escape(t['grade_id'])}</code></a></td>"
        f"<td class='center'>{t['score']:g} / {t['max_score']:g}</td>"
        f"<td class='center'>{'pass' if t['passed'] else '<strong>fail</strong>'}</td>"
        f"<td style='white-space: pre-wrap'>{html.escape(t['feedback'] or '')}</td>"  # arrays keep their columns
        "</tr>"
        for t in tests
    )
    score, total = sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)
    read = ""
    if assignment in ASSIGNMENTS:
        link = site_link(assignment)
        read = f"<p>The idea behind this exercise: <a href='{link}'>{html.escape(link)}</a></p>"
    source = (
        "<div class='nnbasics-summary'>"
        f"<h2>Results: {score:g} / {total:g}</h2>"
        "<table class='table table-condensed'>"
        "<thead><tr><th>test</th><th class='center'>points</th><th class='center'>result</th><th>feedback</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{read}</div>"
    )
    return new_markdown_cell(source)


_EXTERNAL = re.compile(
    r"<(script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^>]*>(?:\s*</\1>)?", re.I
)


def _formgrader():
    return Path(sys.modules["nbgrader"].__file__).parent / "server_extensions" / "formgrader"


def stock_config(config):
    """Give stock ``nbgrader generate_feedback`` (``config``: nbgrader_config.py's) this page's template and math.

    Configured on ``OfflineFeedbackExporter`` only: formgrader renders the
    submissions it shows with ``HTMLExporter`` and this course's config too.
    """
    config.GenerateFeedback.exporter_class = OfflineFeedbackExporter
    config.OfflineFeedbackExporter.template_name = "nnbasics_feedback"
    config.OfflineFeedbackExporter.template_file = TEMPLATE_FILE
    config.OfflineFeedbackExporter.extra_template_basedirs = [str(TEMPLATES), str(_formgrader() / "templates")]


def write_feedback_html(nb, resources, target, tests=()):
    """Write the feedback page of graded ``nb`` to ``target``; ``tests`` are its records (as in ``--json``)."""
    nb, resources = run_steps(FEEDBACK, copy.deepcopy(nb), resources)
    if tests:
        nb.cells.insert(0, summary_cell(tests, resources["nbgrader"].get("assignment")))
    formgrader = _formgrader()
    exporter = OfflineFeedbackExporter(  # configured as nbgrader's GenerateFeedback does, our template first
        template_name="nnbasics_feedback",
        template_file=TEMPLATE_FILE,
        extra_template_basedirs=[str(TEMPLATES), str(formgrader / "templates")],
        extra_template_paths=[str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css")],
    )
    body, _ = exporter.from_notebook_node(nb, resources)
    body = _EXTERNAL.sub("", body)  # nothing may load from another host (a widget or an image URL in an output)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, target)
