"""The report's page: one self-contained HTML file (inline CSS and SVG, no script, no request to another host).

Figures are made with matplotlib in the site's style (``nnbasics.site.figures``):
inline ``<svg role="img">`` whose ``aria-label`` states what the figure shows
with its key numbers, repeated as a visible caption. Wide tables and code
scroll inside their own focusable region, so that the page itself never
scrolls sideways on a phone.
"""

import html

from ..site import figures
from . import links, similarity
from .stats import MIN_STUDENTS

CSS = """
:root { color-scheme: light; --ink: #1b1b1f; --muted: #4b4b57; --line: #c9c9d3; --accent: #1a56a8;
        --code: #f3f3f6; --bad: #a4161a; }
* { box-sizing: border-box; }
body { margin: 0; background: #fff; color: var(--ink);
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
header, main, footer { max-width: 68rem; margin: 0 auto; padding: 0 1rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 1.2rem 0 .4rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 .5rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .4rem; }
p, li { max-width: 48rem; overflow-wrap: anywhere; }
a { color: var(--accent); }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; margin: .5rem 0 1rem; }
.scroll:focus-visible, pre:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .55rem; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--ink); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.msg { min-width: 16rem; max-width: 32rem; overflow-wrap: anywhere; }
td.msg ul { margin: 0; padding-left: 1.1rem; }
.bad { color: var(--bad); font-weight: 600; }
figure { margin: .8rem 0; }
figcaption { color: var(--muted); font-size: .9rem; max-width: 48rem; }
svg.nn-figure { display: block; width: 100%; max-width: 36rem; height: auto; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 24rem), 1fr)); gap: .8rem; }
.pair figure { margin: 0; min-width: 0; }
pre { margin: .3rem 0 0; padding: .6rem; background: var(--code); overflow-x: auto; font-size: .8rem;
      line-height: 1.4; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
nav ul { padding-left: 1.1rem; }
@media (max-width: 40rem) {  /* a phone: each test is a card, its column names before the values */
  table.cards, table.cards caption, table.cards tbody, table.cards tr, table.cards th, table.cards td {
    display: block; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%);
                      white-space: nowrap; }
  table.cards tr { border-bottom: 2px solid var(--line); padding: .5rem 0; }
  table.cards th, table.cards td { border: 0; padding: .1rem 0; text-align: left; white-space: normal;
                                   min-width: 0; max-width: none; }
  table.cards td::before { content: attr(data-label) ": "; font-weight: 600; }
}
"""


def _e(text):
    return html.escape(str(text), quote=True)


def _pts(x):
    """Points as an LMS shows them: ``2``, ``10.5``."""
    return "" if x is None else format(round(float(x), 4), "g")


def _pct(rate):
    return "" if rate is None else f"{100 * rate:.3g} %"


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- figures ---------------------------------------------------------------------------


@figures._styled
def histogram(assignment, summary, max_score, n):
    """The distribution of graded scores as an inline SVG with a text alternative that gives its numbers.

    Parameters
    ----------
    assignment : str
    summary : dict
        ``stats.score_summary``'s result.
    max_score : float
    n : int
        The number of graded submissions.

    Returns
    -------
    (str, str)
        The ``<svg>`` markup and its text alternative.
    """
    from matplotlib.ticker import MaxNLocator

    bins = summary["bins"]
    fig, ax = figures.figure(height=2.6)
    lows, widths = [b["low"] for b in bins], [b["high"] - b["low"] for b in bins]
    ax.bar(lows, [b["count"] for b in bins], width=widths, align="edge", color=figures.PALETTE[0], edgecolor="white")
    ax.set(xlabel=f"score (out of {_pts(max_score)})", ylabel="students", xlim=(bins[0]["low"], bins[-1]["high"]))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=12, integer=True))
    ax.grid(axis="x", visible=False)
    counted = "; ".join(f"{b['count']} scored {b['label']}" for b in bins if b["count"])
    alt = (
        f"Histogram of the {_plural(n, 'graded score')} of {assignment}, out of {_pts(max_score)}: "
        f"mean {_pts(round(summary['mean'], 2))}, median {_pts(summary['median'])}. {counted}."
    )
    return figures.to_svg(fig, name=f"scores-{assignment}", alt=alt), alt


# -- sections --------------------------------------------------------------------------


def _undefined(stat, n_graded):
    if n_graded < MIN_STUDENTS:
        return f"undefined: fewer than {MIN_STUDENTS} graded"
    if stat["pass_rate"] in (0, 1):
        return "undefined: everyone " + ("passed" if stat["pass_rate"] == 1 else "failed")
    return "undefined: the rest of the score does not vary"


def _tests_table(assignment, stats, points, n_graded):
    rows = []
    for gid, stat in stats.items():
        url, heading = links.section(assignment, gid)
        if stat["discrimination"] is None:
            disc = f'<td class="num muted" data-label="Discrimination">{_e(_undefined(stat, n_graded))}</td>'
        else:
            disc = f'<td class="num" data-label="Discrimination">{stat["discrimination"]:+.2f}</td>'
        messages = "".join(f"<li>{n} × {_e(m)}</li>" for m, n in stat["messages"][:3])
        more = len(stat["messages"]) - 3
        if more > 0:
            messages += f'<li class="muted">{_plural(more, "other message")} in report.json</li>'
        passed = round((stat["pass_rate"] or 0) * n_graded)
        rows.append(
            f'<tr><th scope="row"><code>{_e(gid)}</code></th><td class="num" data-label="Points">{_pts(points.get(gid))}</td>'
            f'<td class="num" data-label="Pass rate">{_pct(stat["pass_rate"])} ({passed} of {n_graded})</td>{disc}'
            f'<td class="msg" data-label="Failure messages">{f"<ul>{messages}</ul>" if messages else "none"}</td>'
            f'<td data-label="Taught in"><a href="{_e(url)}">{_e(heading)}</a></td></tr>'
        )
    head = (
        '<tr><th scope="col">Test</th><th scope="col" class="num">Points</th><th scope="col" class="num">Pass rate</th>'
        '<th scope="col" class="num">Discrimination</th><th scope="col">Most frequent failure messages</th>'
        '<th scope="col">Taught in</th></tr>'
    )
    return _scroll(
        f"Tests of {assignment}",
        f"<table class='cards'><caption>Tests of {_e(assignment)}, lowest pass rate first</caption>"
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>",
    )


def _scroll(label, inner):
    return f'<div class="scroll" role="region" aria-label="{_e(label)}" tabindex="0">{inner}</div>'


ORDER = {"crashed": 0, "invalid": 1, "missing": 2, "graded": 3}


def _students_table(assignment, subs, points):
    tests = list(points)
    head = "".join(f'<th scope="col" class="num"><code>{_e(g.removeprefix("test_"))}</code></th>' for g in tests)
    rows = []
    for sub in sorted(subs, key=lambda s: (ORDER[s.status], s.student)):
        cells = []
        for gid in tests:
            t = sub.tests.get(gid)
            if sub.status != "graded" or t is None:
                cells.append('<td class="num muted">–</td>')
            else:
                cls = "num" if t["passed"] else "num bad"
                cells.append(f'<td class="{cls}">{_pts(t["score"])}</td>')
        status = f'<span class="bad">{sub.status}</span>' if sub.status != "graded" else "graded"
        score = _pts(sub.score) if sub.status == "graded" else "–"
        rows.append(
            f'<tr><th scope="row">{_e(sub.student)}</th><td>{status}</td><td class="msg">{_e(sub.reason)}</td>'
            f'<td class="num">{score}</td>{"".join(cells)}</tr>'
        )
    caption = (
        f"Students of {_e(assignment)}: points per test (out of "
        + ", ".join(f"{_e(g.removeprefix('test_'))} {_pts(p)}" for g, p in points.items())
        + "); crashed, invalid and missing first"
    )
    table = (
        f"<table><caption>{caption}</caption><thead><tr><th scope='col'>Student</th><th scope='col'>Status</th>"
        f"<th scope='col'>Reason</th><th scope='col' class='num'>Score</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    return _scroll(f"Students of {assignment}", table)


def _assignment_section(assignment, entry, subs, points, summary):
    graded = [s for s in subs if s.status == "graded"]
    counts = entry["status"]
    parts = [f"{counts[k]} {k}" for k in ("graded", "crashed", "invalid") if counts.get(k)]
    missing = f"; {_plural(counts['missing'], 'student')} handed nothing in" if counts.get("missing") else ""
    max_score = sum(points.values())
    out = [
        f'<section aria-labelledby="h-{_e(assignment)}"><h2 id="h-{_e(assignment)}">{_e(assignment)}</h2>',
        f"<p>{_plural(entry['submissions'], 'submission')}: {', '.join(parts) or 'none graded'}{missing}. ",
    ]
    if graded:
        out.append(
            f"Graded scores out of {_pts(max_score)}: mean <strong>{_pts(round(summary['mean'], 2))}</strong>, "
            f"median <strong>{_pts(summary['median'])}</strong>.</p>"
        )
        svg, alt = histogram(assignment, summary, max_score, len(graded))
        out.append(f"<figure>{svg}<figcaption>{_e(alt)}</figcaption></figure>")
    else:
        out.append("No submission was graded, so there is no score distribution or item analysis.</p>")
    out.append(f'<h3 id="tests-{_e(assignment)}">Tests, lowest pass rate first</h3>')
    out.append(_tests_table(assignment, entry["tests"], points, len(graded)))
    out.append(f'<h3 id="students-{_e(assignment)}">Students</h3>')
    out.append(_students_table(assignment, subs, points))
    out.append("</section>")
    return "".join(out)


def _code(source, label):
    return f'<pre tabindex="0" aria-label="{_e(label)}"><code>{_e(source.rstrip())}</code></pre>'


def _similar_section(pairs, common, klass):
    out = ['<section aria-labelledby="h-similar"><h2 id="h-similar">Similar answers, for review</h2>', SIMILARITY_TEXT]
    if not pairs:
        out.append("<p>No pair of answers reached the threshold.</p>")
    for p in pairs:
        a_sub = klass.submissions[p["a"], p["assignment"]]
        left = a_sub.answers.get(p["grade_id"], "")
        if p["b"] == similarity.REFERENCE:
            right = similarity.reference_source(p["grade_id"]) or ""
            right_label = f"nnbasics.{p['grade_id']}, the course's own code"
            who = f"{_e(p['a'])} and the course's own <code>nnbasics.{_e(p['grade_id'])}</code>"
        else:
            b_sub = klass.submissions[p["b"], p["assignment"]]
            right = b_sub.answers.get(p["grade_id"], "")
            right_label = f"{p['b']}'s answer ({_standing(b_sub)})"
            who = f"{_e(p['a'])} and {_e(p['b'])}"
        left_label = f"{p['a']}'s answer ({_standing(a_sub)})"
        out.append(
            f"<article><h3><code>{_e(p['grade_id'])}</code> in {_e(p['assignment'])}: {who}, "
            f"similarity {p['score']:.2f}</h3><div class='pair'>"
            f"<figure><figcaption>{_e(left_label)}</figcaption>{_code(left, left_label)}</figure>"
            f"<figure><figcaption>{_e(right_label)}</figcaption>{_code(right, right_label)}</figure>"
            "</div></article>"
        )
    if common:
        items = "".join(
            f"<li><code>{_e(gid)}</code> in {_e(a)}: {len(g)} students ({_e(', '.join(sorted(g)))})</li>"
            for a, gid, g in common
        )
        out.append(
            "<p>These answers are shared, near-identical, by too many students to be listed pair by pair: most "
            f"likely the common answer to a well-posed question (shown for completeness):</p><ul>{items}</ul>"
        )
    out.append("</section>")
    return "".join(out)


def _standing(sub):
    return f"{sub.status}, {_pts(sub.score)} of {_pts(sub.max_score)}" if sub.status == "graded" else sub.status


SIMILARITY_TEXT = f"""
<p>Each pair below has two answer cells whose code is near-identical, after the differences that do not change
the code were removed: every name the author chose (variables, arguments, functions) is renamed in order of
first use, docstrings and comments are dropped, and the layout is normalised (Python's own parser and
<code>ast.unparse</code>). The score is the share of these canonical tokens that the two cells have in common,
in order (difflib's ratio 2M/T, from 0 to 1); pairs scoring {similarity.THRESHOLD} or more are listed. A cell is
compared with the same answer of every other student, and its function with the course's own implementation
in <code>nnbasics</code>, which every learner can read.</p>
<p><strong>A high score is a reason to look, never evidence on its own, and never a penalty.</strong> Short
answers are not compared (under {similarity.MIN_TOKENS} tokens, independent answers are often the same), and an
answer that more than a quarter of the class (and more than 3 students) shares is the common answer to a
well-posed question, not listed pair by pair. Copies that reorder statements, rewrite a loop as a comprehension or call other helpers score
lower and can be missed; students who worked together as allowed, or who followed the same worked example,
can score high.</p>
"""

READING_TEXT = f"""
<section aria-labelledby="h-reading"><h2 id="h-reading">How to read this report</h2>
<ul>
<li><strong>Pass rate</strong>: the share of graded submissions that passed the test (all of its points).
Crashed, invalid and missing submissions are counted by status but left out of every statistic.</li>
<li><strong>Discrimination</strong>: the correlation between passing the test (1 or 0) and the rest of the
student's score (the total minus this test's points): Pearson's r with a 0/1 variable, the point-biserial
correlation, as in classical item analysis and PrairieLearn. Near +1: the students who pass this test are
those who do well on the rest. Near 0: passing it says nothing about the rest, e.g. a test that checks
something else than the others. Negative: the strong students fail it, often a test or a hint that misleads
them, worth a look. It is undefined when everyone passed or failed, the rest of the score does not vary, or
fewer than {MIN_STUDENTS} submissions were graded.</li>
<li><strong>Failure messages</strong>: the feedback each failed test gave, counted over the class, most frequent
first. Each message is written for one misconception, so the table reads as "which misconception, how many
students"; the last column links to the section of the course that teaches it.</li>
</ul></section>
"""


def render(klass, report, summaries, common):
    """The report page as HTML text.

    Parameters
    ----------
    klass : data.ClassResults
    report : dict
        The content of report.json.
    summaries : dict
        ``{assignment: stats.score_summary(...)}``.
    common : list of (assignment, grade_id, set)
        Groups of near-identical answers left out as the common answer.
    """
    nav = "".join(f'<li><a href="#h-{_e(a)}">{_e(a)}</a></li>' for a in klass.assignments)
    n_subs = sum(e["submissions"] for e in report["assignments"].values())
    pending = ""
    if klass.pending:
        names = ", ".join(f"{s} ({a})" for s, a in klass.pending[:10]) + (" …" if len(klass.pending) > 10 else "")
        pending = (
            f'<p class="bad">{_plural(len(klass.pending), "submission")} on disk {"is" if len(klass.pending) == 1 else "are"} '
            f"new or changed since grading and not in this report: {_e(names)}. Run grade-class again.</p>"
        )
    sections = "".join(
        _assignment_section(a, report["assignments"][a], klass.of(a), klass.points[a], summaries[a])
        for a in klass.assignments
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Item analysis of {_e(klass.submitted.resolve().parent.name)}</title>
<style>{CSS}</style></head>
<body><header><h1>Item analysis of the class in {_e(klass.submitted.resolve().parent.name)}</h1>
<p class="muted">{_plural(len(klass.students), "student")}, {_plural(n_subs, "submission")}, read from the results
that <code>nnbasics grade-class</code> stored in <code>{_e(klass.journal.name)}</code>; nothing was graded again.
The same numbers: <a href="report.json">report.json</a>, <a href="tests.csv">tests.csv</a> (one row per student,
assignment and test), <a href="submissions.csv">submissions.csv</a> (one row per student and assignment, for an
LMS).</p>{pending}
<nav aria-label="Contents"><ul>{nav}<li><a href="#h-similar">Similar answers, for review</a></li>
<li><a href="#h-reading">How to read this report</a></li></ul></nav></header>
<main>{sections}{_similar_section(report["similar"], common, klass)}{READING_TEXT}</main>
</body></html>
"""
