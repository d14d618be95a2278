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
    match = re.search(rf'<svg data-figure="{re.escape(name)}".*?</svg>', source, re.S)
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
    prose = _prose(built_site, "initialization")
    assert f"the largest of 2048 × 2048 samples of nnbasics.xavier_normal lies {printed} std from 0" in prose
    assert float(printed) > 2  # beyond the cut of a truncated normal, as the sentence says
    # truncation is a framework's choice, and the page says whose
    assert "Keras's GlorotNormal and HeNormal draw from a normal truncated at 2 std" in prose
    assert "PyTorch's xavier_normal_ and kaiming_normal_, and nnbasics, draw from a plain normal" in prose
    assert "Nothing is truncated" not in prose


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
    x, y = 0.8, 0.5
    v = x * y + x
    assert f"dL/dx = {(1 - np.tanh(v) ** 2) * (y + 1):.6f}" in text
    errors = [float(e) for e in re.findall(r"relative error vs finite differences ([0-9.e+-]+)", text)]
    assert len(errors) == 4 and max(errors) < 1e-6


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _plane():
    """The neuron page's grid of the plane, 61 x 61 points from -3 to 3, as (3721, 2)."""
    grid = np.linspace(-3, 3, 61)
    X0, X1 = np.meshgrid(grid, grid)
    return np.stack([X0.ravel(), X1.ravel()], axis=1)


def test_neuron_page_outside_bias_moves_the_boundary_by_the_grids_shares(built_site):
    """The corrected misconception: with the bias outside, the boundary still moves for |b| < 1/2 (closed form)."""
    prose = _prose(built_site, "neuron")
    s = _plane().sum(axis=1)  # w = (1, 1)
    inside = {b: np.mean(_sigmoid(s + b) > 0.5) for b in (0.0, 0.2, 0.6)}
    outside = {b: np.mean(_sigmoid(s) + b > 0.5) for b in (0.0, 0.2, 0.6)}
    assert f"{outside[0.0]:.3f} at \\(b = 0\\)" in prose and f"{outside[0.0]:.3f}" == "0.503"
    assert (
        f"at \\(b = 0.2\\) it is {inside[0.2]:.3f} with the bias inside and {outside[0.2]:.3f} with it outside" in prose
    )
    assert f"{outside[0.2]:.3f}" == "0.630"  # the numbers, from the same grid
    assert f"at \\(b = 0.6\\), {inside[0.6]:.3f} inside and {outside[0.6]:.3f} outside, the whole plane" in prose
    assert outside[0.6] == 1.0
    assert "can no longer move the decision boundary" not in prose


def test_neuron_page_shows_stacked_linear_layers_collapse(built_site):
    text = _page_text(built_site, "neuron")
    collapsed = float(re.search(r"two linear layers vs one: ([0-9.e+-]+)", text)[1])
    with_tanh = float(re.search(r"tanh in between vs one: +([0-9.e+-]+)", text)[1])
    assert collapsed < 1e-12 < 0.1 < with_tanh  # equal up to rounding, and far apart with a nonlinearity


def _noisy_runs():
    """The learning-rate page's noisy quadratic, recomputed with plain NumPy (no nnbasics)."""
    H = np.diag([1.0, 10.0])
    schedules = {
        "fixed 0.1": lambda k: 0.1,
        "fixed 0.01": lambda k: 0.01,
        "step_decay(0.1, k, 0.3, 100)": lambda k: 0.1 * 0.3 ** (k // 100),
        "cosine_decay(0.1, k, 300, 0.001)": lambda k: (
            0.001 + (0.1 - 0.001) * 0.5 * (1 + np.cos(np.pi * min(k, 300) / 300))
        ),
    }
    out = {}
    for name, lr_at in schedules.items():
        traces = []
        for seed in range(5):
            rng, w, trace = np.random.default_rng(seed), np.array([1.0, 1.0]), []
            for k in range(300):
                w = w - lr_at(k) * (H @ w + rng.normal(0.0, 1.0, size=2))
                trace.append(0.5 * w @ H @ w)
            traces.append(trace)
        traces = np.array(traces)
        out[name] = traces[:, 40:50].mean(), traces[:, -50:].mean()
    return out


def test_learning_rate_page_noisy_runs_show_what_decay_is_for(built_site):
    text = _page_text(built_site, "learning-rate")
    runs = _noisy_runs()
    for name, (early, late) in runs.items():
        assert re.search(rf"{re.escape(name)} +loss, steps 41-50: {early:.4f}, last 50: {late:.4f}", text), name
    # what the prose claims: decay ends far lower than the fixed 0.1, which gets close fast but jitters
    assert runs["step_decay(0.1, k, 0.3, 100)"][1] < runs["fixed 0.1"][1] / 5
    assert runs["fixed 0.1"][0] < runs["fixed 0.01"][0]
    prose = _prose(built_site, "learning-rate")
    assert "Schedules start larger and shrink it" not in prose
    assert "A decay schedule is not a way past \\(2/\\lambda_{\\max}\\)" in prose and "Warm-up" in prose


def test_learning_rate_page_reads_the_loss_curves_with_their_numbers(built_site):
    prose = _prose(built_site, "learning-rate")

    def after(lr):  # closed form after 60 steps from (1, 1) on diag(1, 10)
        return 0.5 * ((1 - lr) ** 120 + 10 * (1 - 10 * lr) ** 120)

    assert f"at \\(\\eta = 0.205\\) the loss has grown to {after(0.205):.3g}" in prose
    assert f"At \\(\\eta = 0.19\\) it is {after(0.19):.2g}, worse than the {after(0.15):.2g} of" in prose
    assert f"At \\(\\eta = 0.02\\) it is {after(0.02):.2g}" in prose
    assert after(0.205) > 1 > after(0.19) > after(0.15)


def test_learning_rate_page_range_test_picks_follow_the_sweep(built_site):
    text = _page_text(built_site, "learning-rate")
    lowest = float(re.search(r"lowest +η = ([0-9.]+):", text)[1])
    tenth = float(re.search(r"a tenth +η = ([0-9.]+):", text)[1])
    assert tenth == pytest.approx(lowest / 10, abs=1e-3)
    grid = 1e-3 * ((1e2 / 1e-3) ** (1 / 119)) ** np.arange(120)  # the sweep's rates, 1e-3 to 1e2
    assert np.min(np.abs(grid - lowest)) < 1e-3 * lowest + 1e-3
    assert re.search(r"a tenth +η = [0-9.]+: loss [0-9.]+, 0 rises", text)  # the prose: it never rises
    alt = html.unescape(
        re.search(r'data-figure="lr-range-test" aria-label="([^"]+)"', _source(built_site, "learning-rate"))[1]
    )
    assert f"at η ≈ {lowest:.2g}" in alt


def _source(site, page):
    return (site / page / "index.html").read_text(encoding="utf-8")


def test_initialization_page_pytorch_linear_default_and_bias(built_site):
    text = _page_text(built_site, "initialization")
    bound = 1 / np.sqrt(512)  # torch.nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in)
    max_w, max_b = (float(v) for v in re.search(r"max \|w\| ([0-9.]+), max \|b\| ([0-9.]+)", text).groups())
    assert 0.99 * bound < max_w <= bound and 0.99 * bound < max_b <= bound
    std = float(re.search(r"std\(w\) ([0-9.]+), 1/sqrt\(3 fan_in\) = ([0-9.]+)", text)[1])
    assert std == pytest.approx(1 / np.sqrt(3 * 512), rel=0.01)  # U(-a, a) has std a / sqrt(3)
    # the output bias at the log-odds of the base rate starts the loss at the labels' entropy
    assert f"b = 0             initial loss {np.log(2):.4f}" in text
    assert f"initial loss {-(0.1 * np.log(0.1) + 0.9 * np.log(0.9)):.4f}" in text
    prose = _prose(built_site, "initialization")
    assert "kaiming_uniform_(weight, a=math.sqrt(5))" in prose


def test_loss_page_says_what_a_loss_is_with_numbers(built_site):
    text = _page_text(built_site, "loss")
    assert text.index("What a loss is") < text.index("Three losses and their gradients")
    assert f"MSE close to the targets: {0.1**2 / 3:.4f}" in text  # closed form
    assert f"MSE two of them off by 0.5: {(0.25 + 0.25 + 0.01) / 3:.4f}" in text


def test_loss_landscape_alt_has_the_minimum_computed_independently(built_site):
    from nnbasics.train import blobs

    X, y = blobs(200, std=1.0, rng=np.random.default_rng(0))
    grid = np.linspace(-6, 6, 49)
    W1, W2 = np.meshgrid(grid, grid)
    Z = X @ np.stack([W1.ravel(), W2.ravel()])  # (200, 2401)
    ce = (np.logaddexp(0, Z) - y[:, None] * Z).mean(axis=0)  # BCE with logits, closed form
    i = np.argmin(ce)
    alt = html.unescape(re.search(r'data-figure="loss-landscape" aria-label="([^"]+)"', _source(built_site, "loss"))[1])
    assert f"cross-entropy from {ce[i]:.3g} at w = ({W1.ravel()[i]:.3g}, {W2.ravel()[i]:.3g}) to {ce.max():.3g}" in alt


def test_chain_rule_page_walks_backward_node_by_node(built_site):
    text = _page_text(built_site, "chain-rule")
    x, y = 0.8, 0.5
    g = 1 - np.tanh(x * y + x) ** 2  # dL/dv
    assert f"L = tanh(v) -> v: 1.0000 x {g:.4f} = {g:.4f}" in text
    assert f"v = u + x   -> x: {g:.4f} x 1.0000 = {g:.4f}" in text  # add: distributes
    assert f"u = x * y   -> x: {g:.4f} x {y:.4f} = {g * y:.4f}" in text  # multiply: swaps
    assert f"u = x * y   -> y: {g:.4f} x {x:.4f} = {g * x:.4f}" in text
    assert f"x gets both: {g:.4f} + {g * y:.4f} = {g * (1 + y):.4f}" in text
    assert "d out/da = 1 (a > 0: routed), d out/db = 0 (b < 0)" in text  # max (ReLU) routes


def test_chain_rule_single_path_value_is_clearly_not_the_gradient(built_site):
    prose = _prose(built_site, "chain-rule")
    x, y = 0.8, 0.5
    g = 1 - np.tanh(x * y + x) ** 2
    one_path, total = g * y, g * (y + 1)
    assert abs(one_path + total) > 0.1 and abs(one_path - total) > 0.1  # neither the gradient nor its negative
    assert f"following only the path through \\(u\\) gives \\((1-\\tanh^2 v)\\,y = {one_path:.4f}\\)" in prose
    assert f"a third of the finite difference {total:.4f}" in prose and one_path / total == pytest.approx(1 / 3)
    assert f"their sum, {total:.4f}, is what backward() computed" in prose
    assert "dI/dx" not in prose


def test_chain_rule_gradient_norm_prose_follows_the_figure(built_site):
    text, prose = _page_text(built_site, "chain-rule"), _prose(built_site, "chain-rule")
    table = {
        name: tuple(float(v) for v in m)
        for name, *m in re.findall(r"^(\w+, [^\n]*?) +layer 1 ([0-9.e+-]+), layer 8 ([0-9.e+-]+),", text, re.M)
    }
    small_tanh, small_relu = table["tanh, N(0, 0.1²)"], table["relu, N(0, 0.1²)"]
    assert small_tanh[0] > small_tanh[1] and small_relu[0] > small_relu[1]  # the first layer is not starved
    ratio = small_tanh[0] / small_tanh[1]
    m = re.search(r"it is ([0-9.]+) \(tanh\) and ([0-9.]+) \(ReLU\) times the last hidden layer's", prose)
    assert float(m[1]) == pytest.approx(ratio, rel=0.05) and float(m[2]) == pytest.approx(
        small_relu[0] / small_relu[1], rel=0.05
    )
    assert "the first layers get almost nothing" not in prose


def test_every_concept_page_has_a_figure_from_the_build(built_site):
    expected = {
        "neuron": ["activations", "decision-boundary"],
        "learning-rate": ["loss-curves", "steps-v", "schedules", "lr-range-test"],
        "initialization": ["activation-std"],
        "loss": ["ce-vs-mse", "loss-landscape"],
        "chain-rule": ["grad-norms"],
    }
    for page, names in expected.items():
        for name in names:
            svg = _figure(built_site, page, name)
            assert "currentColor" in svg and "<path" in svg
            assert not re.search(r"<svg[^>]* width=", svg), "figures must scale with the page"
            label = html.unescape(re.search(r'aria-label="([^"]*)"', svg)[1])
            assert label != name and re.search(r"\d", label), f"{name}: the text alternative is a slug: {label!r}"
    source = (built_site / "chain-rule" / "index.html").read_text(encoding="utf-8")
    assert 'class="nn-graph"><svg role="img" aria-label="Computational graph of L' in source


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


def test_palette_switch_restyles_only_the_parts_with_transitions(built_site):
    """Material's "stop every transition" rule is narrowed, so removing its attribute does not restyle the page."""
    (css,) = (built_site / "assets" / "stylesheets").glob("palette.*.min.css")
    text = css.read_text(encoding="utf-8")
    assert "[data-md-color-switching] *" not in text
    assert "[data-md-color-switching] .md-header" in text


def test_katex_fonts_are_optional_in_the_built_site_only(built_site):
    """The built stylesheet's faces are ``font-display: optional`` (a held first frame otherwise); the vendored one is KaTeX's."""
    built = (built_site / "assets" / "vendor" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    vendored = (ROOT / "docs" / "assets" / "vendor" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    faces = vendored.count("@font-face")
    # one face per font file KaTeX ships, each `block` as KaTeX ships it (what `make vendor` compares against)
    assert faces == len(list((ROOT / "docs" / "assets" / "vendor" / "katex" / "fonts").glob("*.woff2")))
    assert vendored.count("font-display:block") == faces
    assert built.count("font-display:optional") == faces and "font-display:block" not in built
    assert built.replace("font-display:optional", "font-display:block") == vendored
