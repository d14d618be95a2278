"""The built site's contents: numbers and figures from the core, downloads, offline assets, page notebooks."""

import html
import re
import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from nnbasics.assignments import ASSIGNMENTS, PAGES

ROOT = Path(__file__).resolve().parents[2]
CONCEPT_PAGES = [page.removesuffix(".md") for page in PAGES.values()]


_FORMULA = re.compile(r'<(span|div) class="arithmatex">')
_TEX = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.S)
_TAG = re.compile(r"<(/?)(span|div)\b[^>]*>")


def _as_tex(article):
    """The article with each formula (rendered at build time into KaTeX HTML + MathML) as its TeX, ``\\(...\\)``."""
    out, pos = [], 0
    for start in _FORMULA.finditer(article):
        if start.start() < pos:
            continue
        depth, end = 0, len(article)
        for tag in _TAG.finditer(article, start.start()):
            depth += -1 if tag[1] else 1
            if depth == 0:
                end = tag.end()
                break
        tex = _TEX.search(article, start.start(), end)[1]
        out += [article[pos : start.start()], f"\\({tex}\\)" if start[1] == "span" else f"\\[{tex}\\]"]
        pos = end
    return "".join(out) + article[pos:]


def _page_text(site, page):
    """The visible text of a built page's article, tags stripped, formulas as their TeX."""
    source = (site / page / "index.html").read_text(encoding="utf-8")
    article = _as_tex(source[source.index("<article") : source.index("</article>")])
    return html.unescape(re.sub(r"<[^>]+>", "", article))


def _prose(site, page):
    """The page's visible text with every run of whitespace made one space (generated prose keeps its line breaks)."""
    return " ".join(_page_text(site, page).split())


def _steps(lr, lam=10.0, tol=1e-6):
    """Closed form, independent of nnbasics: steps from |w0| = 1 to |w| <= tol, k = ceil(log tol / log|1 - lr lam|)."""
    return int(np.ceil(np.log(tol) / np.log(abs(1 - lr * lam))))


def _figure(site, page, name):
    source = (site / page / "index.html").read_text(encoding="utf-8")
    match = re.search(rf'<svg aria-label="{re.escape(name)}".*?</svg>', source, re.S)
    assert match, f"figure {name!r} missing from {page}"
    return match.group(0)


# -- numbers and figures come from the core, at build time ------------------


def test_neuron_page_shows_the_numbers_the_core_computes(built_site):
    text = _page_text(built_site, "neuron")
    # closed form, independent of nnbasics: z = 0.5*0.8 + (-1.0)*0.2 + 2.0*(-0.5) + 0.1
    z = 0.5 * 0.8 + (-1.0) * 0.2 + 2.0 * (-0.5) + 0.1
    assert f"z = w·x + b = {z:.4f}" in text
    assert f"sigmoid: a = {1 / (1 + np.exp(-z)):.4f}" in text
    assert f"tanh: a = {np.tanh(z):.4f}" in text


def test_learning_rate_page_steps_follow_the_closed_form(built_site):
    text = _page_text(built_site, "learning-rate")
    for lr in (0.025, 0.05, 0.15, 0.19):
        assert re.search(rf"η = {lr}\s+steps = {_steps(lr)}\b", text), (lr, _steps(lr))
    assert re.search(r"η = 0.1\s+steps = 1\b", text)
    assert re.search(r"η = 0.21\s+steps = inf", text)
    assert "largest stable learning rate 2/λmax = 0.2" in text


def test_learning_rate_misconception_prose_states_the_closed_form_counts(built_site):
    slow, back = _steps(0.05), _steps(0.15)
    sentence = (
        f"cuts the steps from {slow} to 1, not to {slow / 2:g}; going on to \\(0.15\\) brings them back to {back},"
    )
    assert sentence in _prose(built_site, "learning-rate")


def test_initialization_page_kaiming_std_and_fans(built_site):
    text = _page_text(built_site, "initialization")
    assert "fans (fan_in, fan_out): (512, 256)" in text
    assert "conv weight (64, 3, 3, 3): fans (27, 576)" in text
    assert f"xavier_uniform bound {np.sqrt(6 / (27 + 576)):.4f}" in text
    # constant init: the hidden units stay identical (symmetry), Xavier's do not
    assert re.search(r"constant 0.5: .*hidden units differ by 0\n", text)


def test_initialization_misconception_prose_quotes_the_printed_tail(built_site):
    """The "Glorot truncates" refutation quotes the largest |w| / std that the block below it prints."""
    text = _page_text(built_site, "initialization")
    printed = re.search(r"xavier_normal on \(2048, 2048\): largest \|w\| / std = ([0-9.]+)", text)[1]
    assert f"the largest of 2048 × 2048 samples lies {printed} std from 0" in _prose(built_site, "initialization")
    assert float(printed) > 2  # beyond the cut of a truncated normal, as the sentence says


def test_loss_page_extreme_logits_match_pytorch(built_site):
    text = _page_text(built_site, "loss")
    # torch.nn.functional.cross_entropy on [[1000, 0, -1000]], targets 0, 1, 2 (torch 2.13.0, see toolnotes)
    assert "CE of [1000, 0, -1000] for targets 0, 1, 2: [0.0, 1000.0, 2000.0]" in text
    assert "BCE of p = 0 for y = 1: 100.0" in text


def test_loss_page_gradient_ratio_follows_the_closed_form(built_site):
    text = _page_text(built_site, "loss")
    # closed form at margin m: dCE/dm = s - 1 and d(s - 1)^2/dm = 2 (s - 1) s (1 - s), with s = sigmoid(m)
    s = 1 / (1 + np.exp(6.0))
    ratio = 1 / (2 * s * (1 - s))
    assert re.search(rf"m = -6: .* ratio\s+{ratio:.1f}\n", text)
    assert f"of \\(-6\\) its gradient is {ratio:.0f} times smaller than cross-entropy's" in _prose(built_site, "loss")


def test_chain_rule_page_gradient_matches_the_formula(built_site):
    text = _page_text(built_site, "chain-rule")
    x, y = 1.5, -0.5
    v = x * y + x
    assert f"dL/dx = {(1 - np.tanh(v) ** 2) * (y + 1):.6f}" in text
    errors = [float(e) for e in re.findall(r"relative error vs finite differences ([0-9.e+-]+)", text)]
    assert len(errors) == 4 and max(errors) < 1e-6


def test_every_concept_page_has_a_figure_from_the_build(built_site):
    expected = {
        "neuron": ["activations", "decision-boundary"],
        "learning-rate": ["loss-curves", "steps-v", "schedules"],
        "initialization": ["activation-std"],
        "loss": ["ce-vs-mse", "loss-landscape"],
        "chain-rule": ["grad-norms"],
    }
    for page, names in expected.items():
        for name in names:
            svg = _figure(built_site, page, name)
            assert "currentColor" in svg and "<path" in svg
            assert not re.search(r"<svg[^>]* width=", svg), "figures must scale with the page"
    source = (built_site / "chain-rule" / "index.html").read_text(encoding="utf-8")
    assert 'aria-label="computational graph"' in source


PATCH = '''
"""Test patch: a changed core, whose numbers, figures and prose on the site must change with it.

Every weighted sum is one larger (the neuron page), and steps_to_converge
counts the steps to a tolerance 1000 times smaller (the learning-rate page).
"""
import nnbasics
import nnbasics.neuron
import nnbasics.optim

_weighted_sum = nnbasics.neuron.weighted_sum
_steps_to_converge = nnbasics.optim.steps_to_converge


def weighted_sum(x, w, b):
    return _weighted_sum(x, w, b) + 1.0


def steps_to_converge(lam, lr, w0=1.0, tol=1e-6):
    return _steps_to_converge(lam, lr, w0, tol * 1e-3)


nnbasics.neuron.weighted_sum = nnbasics.weighted_sum = weighted_sum
nnbasics.optim.steps_to_converge = nnbasics.steps_to_converge = steps_to_converge
'''


def test_changed_core_function_changes_the_page(built_site, mkdocs_build, tmp_path):
    """Build two pages with core functions patched (sitecustomize): their numbers, figures and prose move.

    The neuron page with ``weighted_sum`` shifted; the learning-rate page with
    ``steps_to_converge`` given a smaller tolerance, which its table and the
    generated sentence of its "Common misconceptions" box must both follow.
    """
    patch_dir = tmp_path / "patch"
    patch_dir.mkdir()
    (patch_dir / "sitecustomize.py").write_text(PATCH)
    others = [f"/{p}.md" for p in ["index", "initialization", "loss", "chain-rule", "api"]]
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        textwrap.dedent(f"""\
        INHERIT: {ROOT / "mkdocs.yml"}
        docs_dir: {ROOT / "docs"}
        hooks: [{ROOT / "docs" / "hooks" / "course_files.py"}]
        nav: [neuron.md, learning-rate.md]
        exclude_docs: |
          /hooks/
          /ruff.toml
          /assets/vendor/README.md
        """)
        + "".join(f"  {p}\n" for p in others)
    )
    # only these two pages (links to the excluded pages warn, hence not strict)
    result = mkdocs_build(tmp_path / "site", config=config, strict=False, extra_pythonpath=patch_dir)
    assert result.returncode == 0, result.stderr[-5000:]
    before, after = _page_text(built_site, "neuron"), _page_text(tmp_path / "site", "neuron")
    z = 0.5 * 0.8 + (-1.0) * 0.2 + 2.0 * (-0.5) + 0.1
    assert f"z = w·x + b = {z:.4f}" in before
    assert f"z = w·x + b = {z + 1:.4f}" in after
    assert f"sigmoid: a = {1 / (1 + np.exp(-(z + 1))):.4f}" in after
    assert _figure(built_site, "neuron", "decision-boundary") != _figure(
        tmp_path / "site", "neuron", "decision-boundary"
    )
    # and an unpatched function's figure is byte-identical: figures are deterministic, so the change is the patch's
    assert _figure(built_site, "neuron", "activations") == _figure(tmp_path / "site", "neuron", "activations")

    # the learning-rate page: table, figure and the misconception's sentence follow the patched count
    text = _page_text(tmp_path / "site", "learning-rate")
    slow, back = _steps(0.05, tol=1e-9), _steps(0.15, tol=1e-9)
    assert slow != _steps(0.05)  # the patch does change the count
    assert re.search(rf"η = 0.05\s+steps = {slow}\b", text)
    sentence = "cuts the steps from {} to 1, not to {:g}; going on to \\(0.15\\) brings them back to {},"
    assert sentence.format(_steps(0.05), _steps(0.05) / 2, _steps(0.15)) in _prose(built_site, "learning-rate")
    assert sentence.format(slow, slow / 2, back) in _prose(tmp_path / "site", "learning-rate")
    assert _figure(built_site, "learning-rate", "steps-v") != _figure(tmp_path / "site", "learning-rate", "steps-v")
    assert _figure(built_site, "learning-rate", "schedules") == _figure(tmp_path / "site", "learning-rate", "schedules")


# -- downloads -------------------------------------------------------------------


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_downloads_are_the_released_notebooks(built_site, assignment):
    released = (ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_bytes()
    assert (built_site / "downloads" / f"{assignment}.ipynb").read_bytes() == released
    preview = (built_site / "exercises" / assignment / "index.html").read_text(encoding="utf-8")
    assert f'href="../../downloads/{assignment}.ipynb"' in preview
    # the preview shortens the test-helpers cell; the download keeps all of it
    assert "more lines: the `check` helper" in html.unescape(re.sub(r"<[^>]+>", "", preview))
    assert b"def judge(" in released and "def judge(" not in html.unescape(re.sub(r"<[^>]+>", "", preview))


@pytest.mark.parametrize("page", CONCEPT_PAGES)
def test_page_notebook_has_the_page_code_and_prose(built_site, page):
    nb = nbformat.reads((built_site / "downloads" / f"{page}.ipynb").read_text(encoding="utf-8"), as_version=4)
    nbformat.validate(nb)
    source = (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
    # every executed block, those inside an admonition (indented) included, becomes a code cell in order
    blocks = re.findall(r'^( *)```python exec="on"[^\n]*\n(.*?)\n\1```$', source, re.S | re.M)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == [textwrap.dedent(b).strip("\n") for _, b in blocks]
    prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "Common misconceptions" in prose and "**Self-check.**" in prose and "<details>" in prose
    assert "<quiz>" not in prose and "{ .md-button" not in prose and ":material-" not in prose
    assert "$$" in prose  # the math stays LaTeX, which Jupyter renders
    page_html = (built_site / page / "index.html").read_text(encoding="utf-8")
    assert f'href="../downloads/{page}.ipynb"' in page_html


@pytest.mark.slow
def test_page_notebook_runs_in_jupyter_and_displays_figures(built_site):
    """The downloaded neuron page runs top to bottom in a real kernel, and its figures display as SVG."""
    from nbclient import NotebookClient

    nb = nbformat.reads((built_site / "downloads" / "neuron.ipynb").read_text(encoding="utf-8"), as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    svgs = [o for o in outputs if o.output_type == "display_data" and "image/svg+xml" in o.data]
    assert len(svgs) == 2  # the activations and the decision boundary
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "<svg" not in printed  # shown as figures, not printed as markup
    assert "z = w·x + b = -0.7000" in printed


# -- offline ---------------------------------------------------------------------


def test_built_site_loads_nothing_from_another_host(built_site):
    """No page, stylesheet or script of the built site refers to a remote resource it would load."""
    load = re.compile(
        r"""<(?:script|img|iframe|source|audio|video)[^>]+src=["'](?:https?:)?//"""
        r"""|<link[^>]+rel=["'](?:stylesheet|preload|modulepreload|icon|preconnect)["'][^>]+href=["'](?:https?:)?//"""
        r"""|<link[^>]+href=["'](?:https?:)?//[^"']+["'][^>]+rel=["'](?:stylesheet|preload|modulepreload|icon|preconnect)"""
        r"""|@import\s+(?:url\()?["']?(?:https?:)?//|url\(["']?(?:https?:)?//""",
        re.I,
    )
    offenders = []
    for path in built_site.rglob("*"):
        if path.suffix in (".html", ".css") and path.is_file():
            for m in load.finditer(path.read_text(encoding="utf-8", errors="replace")):
                offenders.append(f"{path.relative_to(built_site)}: {m.group(0)[:120]}")
    assert not offenders, "\n".join(offenders)
    assert (built_site / "assets" / "vendor" / "katex" / "katex.min.css").is_file()
    assert list((built_site / "assets" / "vendor" / "katex" / "fonts").glob("*.woff2"))
