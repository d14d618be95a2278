"""Build-time math on its own: KaTeX's HTML + MathML, the spoken names of formulas, TeX found in the pages."""

import re

import pytest

from nnbasics.site import math_html


@pytest.fixture(scope="module")
def render():
    renderer = math_html.Renderer(math_html.find_katex())
    yield renderer.render
    renderer.close()


def _label(rendered):
    return re.search(r'<math[^>]* aria-label="([^"]*)"', rendered)[1]


@pytest.mark.parametrize(
    ("tex", "spoken"),
    [
        (r"\varphi(\mathbf{w}\cdot\mathbf{x} + b)", "φ(w ⋅ x + b)"),
        (r"\sigma(z) = \frac{1}{1+e^{-z}}", "σ(z) = 1/(1 + e^(−z))"),
        (r"\sum_{i=1}^{D} w_i x_i + b", "∑_(i = 1)^D w_i x_i + b"),
        (r"\sigma'(z) \le \tfrac14", "σ′(z) ≤ 1/4"),
        (r"\lVert\mathbf{w}\rVert", "∥w∥"),
        (r"\sqrt{2/n}", "√(2/n)"),
        (r"\hat y", "hat(y)"),
        (r"W \in \mathbb{R}^{M \times D}", "W ∈ R^(M × D)"),
        (r"\eta < 2/\lambda_{\max}", "η &lt; 2/λ_max"),  # as written in the attribute
    ],
)
def test_every_formula_is_named_by_its_spoken_form(render, tex, spoken):
    (rendered,) = render([(tex, False)])
    assert '<span class="katex-mathml"><math' in rendered  # MathML beside the HTML
    assert '<span class="katex-html" aria-hidden="true">' in rendered
    assert _label(rendered) == spoken


def test_display_math_and_a_bad_formula(render):
    (display,) = render([(r"a = b", True)])
    assert display.startswith('<span class="katex-display">') and 'display="block"' in display
    with pytest.raises(math_html.MathError, match=r"KaTeX cannot render '\\\\frac\{1\}'"):
        render([(r"\frac{1}", False)])
    assert render([("x", False)])  # the process survives a bad formula


def test_arithmatex_spans_and_divs_become_katex(render):
    page = (
        '<p>A <span class="arithmatex">\\(a &lt; b\\)</span> and</p>'
        '<div class="arithmatex">\\[\nx^2\n\\]</div><code>\\(not math\\)</code>'
    )
    out = math_html.render_arithmatex(page, render)
    assert out.count('class="katex"') == 2 and "\\(" not in out.replace("\\(not math\\)", "")
    assert _label(out) == "a &lt; b"
    assert '<div class="arithmatex"><span class="katex-display">' in out


def test_notebook_markdown_dollars_outside_code(render):
    page = (
        '<div class="jp-Cell"><div class="jp-RenderedHTMLCommon jp-MarkdownOutput" data-mime-type="text/markdown">'
        "<p>Sum $z = x \\cdot w + b$, costs $5 and $6, <code>$HOME</code>, and</p>"
        "<p>$$\nL = \\frac{1}{N}\n$$</p><div>nested</div></div></div>"
        '<div class="jp-CodeCell"><pre>print("$x$")</pre></div>'
    )
    out = math_html.render_notebook_markdown(page, render)
    assert out.count('class="katex"') == 2  # the inline and the display formula, nothing else
    assert "<code>$HOME</code>" in out and 'print("$x$")' in out
    assert "costs $5 and $6" in out  # prices are not math
    assert '<div class="arithmatex"><span class="katex-display">' in out and "<div>nested</div>" in out


def test_fonts_used_follow_the_classes():
    assert math_html.fonts_used("<p>no math</p>") == []
    page = '<span class="katex"><span class="mord mathnormal">x</span><span class="delimsizing size1">(</span>'
    assert math_html.fonts_used(page) == ["KaTeX_Main-Regular", "KaTeX_Math-Italic", "KaTeX_Size1-Regular"]


def test_missing_katex_is_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setattr(math_html, "_CHECKOUT", tmp_path)
    with pytest.raises(math_html.MathError, match=r"^KaTeX is not installed: run `npm ci`"):
        math_html.find_katex(tmp_path)


def test_stylesheet_must_be_the_rendering_katex(tmp_path):
    katex = math_html.find_katex()
    css = tmp_path / "katex.min.css"
    css.write_text('.katex-version::after{content:"0.0.1"}')
    with pytest.raises(math_html.MathError, match="make vendor"):
        math_html.check_stylesheet(katex, css)
    css.write_text(f'.katex .katex-version:after{{content:"{math_html.katex_version(katex)}"}}')
    math_html.check_stylesheet(katex, css)
