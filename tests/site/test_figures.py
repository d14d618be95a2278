"""The site's figures on their own: every figure function with the core's data, checked from matplotlib's layout.

What is checked here without a browser: no text leaves the figure (a clipped
title), no text is smaller than the size that keeps 9 px on a phone, every
line colour has 3:1 contrast on both themes' backgrounds (WCAG formula,
written out in ``testkit.wcag``), each figure's named defect is gone, and each text
alternative carries the figure's key numbers, computed here independently.
The rendered sizes in Chromium are measured by ``test_legibility.py``.
"""

import re

import matplotlib
import numpy as np
import pytest
from testkit.wcag import contrast

import nnbasics as nn
from nnbasics.site import figures

LIGHT_BG, SLATE_BG = "#ffffff", "#1e2129"  # Material's default and slate backgrounds (measured in test_legibility)
PHONE_ARTICLE, DESKTOP_ARTICLE = 358, 688  # article widths in px at 390 and 1280 px (measured in test_legibility)


def test_contrast_formula_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey


@pytest.mark.parametrize("background", [LIGHT_BG, SLATE_BG])
def test_palette_has_3_to_1_contrast_on_both_themes(background):
    ratios = {c: contrast(c, background) for c in figures.PALETTE}
    assert min(ratios.values()) >= 3.0, ratios
    # the old palette's sky blue and orange were 2.3:1 on white: the check tells them apart
    assert contrast("#56b4e9", LIGHT_BG) < 3 and contrast("#e69f00", LIGHT_BG) < 3


def test_smallest_font_is_legible_on_a_phone_and_a_desktop():
    units = figures.WIDTH * 72  # the SVG's viewBox width
    assert figures.MIN_FONT * PHONE_ARTICLE / units >= 9
    assert figures.MIN_FONT * DESKTOP_ARTICLE / units >= 10


# -- every figure, built from the core's numbers -------------------------------------


def _activations():
    zs = np.linspace(-5, 5, 401)
    ones = np.ones_like(zs)
    curves = {
        "sigmoid": (nn.sigmoid(zs), nn.sigmoid_backward(ones, zs)),
        "tanh": (nn.tanh(zs), nn.tanh_backward(ones, zs)),
        "relu": (nn.relu(zs), nn.relu_backward(ones, zs)),
    }
    return figures.activations(zs, curves)


SETTINGS = [
    ((1.0, 1.0), 0.0, "w = (1, 1), b = 0"),
    ((4.0, 4.0), 0.0, "w = (4, 4): sharper"),
    ((1.0, 1.0), -1.5, "b = −1.5: shifted"),
    ((1.0, -0.5), 0.0, "w = (1, −0.5): turned"),
]


def _decision_boundaries():
    grid = np.linspace(-3, 3, 61)
    X0, X1 = np.meshgrid(grid, grid)
    points = np.stack([X0.ravel(), X1.ravel()], axis=1)
    outputs = [nn.neuron_forward(points, np.array(w), b).reshape(X0.shape) for w, b, _ in SETTINGS]
    return figures.decision_boundaries(grid, SETTINGS, outputs)


H = np.diag([1.0, 10.0])


def _loss_curves():
    rates = [0.02, 0.1, 0.15, 0.19, 0.205]
    losses = [
        np.array([0.5 * w @ H @ w for w in nn.gradient_descent(lambda w: H @ w, np.ones(2), lr, 60)]) for lr in rates
    ]
    return figures.loss_curves(rates, losses, nn.max_stable_lr(H))


def _steps_v():
    lrs = np.union1d(np.linspace(0.002, 0.25, 500), [0.1, 0.2])
    return figures.steps_v(10.0, lrs, nn.steps_to_converge(10.0, lrs))


def _schedules():
    epochs = np.arange(60)
    return figures.schedules(
        epochs,
        {
            "step_decay(0.1, e, 0.5, 10)": nn.step_decay(0.1, epochs, 0.5, 10),
            "cosine_decay(0.1, e, 50, 0.005)": nn.cosine_decay(0.1, epochs, 50, 0.005),
        },
    )


def _lr_range_test():
    lrs = np.geomspace(1e-3, 1e2, 40)
    losses = np.concatenate([np.linspace(0.75, 0.15, 30), np.geomspace(0.3, 400, 10)])
    return figures.lr_range_test(lrs, losses, 29)


def _activation_stds():
    depth = np.arange(1, 11)
    stds = {
        ("tanh", "zeros"): np.zeros(10),
        ("tanh", "small"): 0.1 * 0.15**depth,
        ("tanh", "He"): 0.6 * np.ones(10),
        ("relu", "zeros"): np.zeros(10),
        ("relu", "small"): 0.1 * 0.07**depth,
        ("relu", "He"): 0.8 * np.ones(10),
    }
    return figures.activation_stds(stds, 10)


def _ce_vs_mse():
    m = np.linspace(-8, 8, 401)
    ones = np.ones_like(m)
    p = nn.sigmoid(m)
    losses = {"cross-entropy": nn.bce_with_logits(m, ones, reduction="none"), "squared error": (p - 1) ** 2}
    pushes = {
        "cross-entropy": -nn.bce_with_logits_grad(m, ones, reduction="none"),
        "squared error": -2 * (p - 1) * p * (1 - p),
    }
    return figures.ce_vs_mse(m, losses, pushes)


def _landscapes():
    grid = np.linspace(-6, 6, 25)
    W1, W2 = np.meshgrid(grid, grid)
    bowl = ((W1 - 2) ** 2 + (W2 - 2) ** 2).ravel()
    plateau = np.tanh(np.hypot(W1 - 2, W2 - 1.5)).ravel()
    return figures.loss_landscapes(grid, {"bowl": bowl, "plateau": plateau})


def _grad_norms():
    from nnbasics.train import two_moons

    X, y = two_moons(60, rng=np.random.default_rng(0))
    histories = {}
    for name, (act, scheme) in {"tanh, N(0, 0.1²)": ("tanh", 0.1), "relu, He": ("relu", "kaiming")}.items():
        _, histories[name] = nn.train_mlp(
            X, y, [2, 8, 8, 8, 2], lr=0.1, epochs=5, rng=np.random.default_rng(1), scheme=scheme, activation=act
        )
    return figures.grad_norms(histories)


FIGURES = {
    "activations": _activations,
    "decision-boundary": _decision_boundaries,
    "loss-curves": _loss_curves,
    "steps-v": _steps_v,
    "schedules": _schedules,
    "lr-range-test": _lr_range_test,
    "activation-std": _activation_stds,
    "ce-vs-mse": _ce_vs_mse,
    "loss-landscape": _landscapes,
    "grad-norms": _grad_norms,
}


def _texts(fig):
    """The text artists a draw renders, with their extents in display units (the figure's bbox is in the same units).

    Tick labels of ticks outside an axis's view limits are kept by matplotlib but not drawn: left out here.
    """
    fig.draw_without_rendering()
    renderer = fig._get_renderer()
    undrawn = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            drawn = {id(t) for t in axis._update_ticks()}
            undrawn |= {id(label) for t in ticks if id(t) not in drawn for label in (t.label1, t.label2)}
    width, height = renderer.get_canvas_width_height()  # the canvas the extents below are measured on
    texts = [
        (text, text.get_window_extent(renderer))
        for text in fig.findobj(matplotlib.text.Text)
        if text.get_visible() and text.get_text().strip() and id(text) not in undrawn
    ]
    return (width, height), texts


@pytest.mark.parametrize("name", FIGURES)
def test_figure_text_stays_inside_and_is_large_enough(name):
    fig = FIGURES[name]()
    assert fig.get_figwidth() == figures.WIDTH
    (width, height), texts = _texts(fig)
    clipped, small = [], []
    for text, extent in texts:
        if extent.x0 < -0.5 or extent.x1 > width + 0.5 or extent.y0 < -0.5 or extent.y1 > height + 0.5:
            clipped.append((text.get_text(), tuple(round(v) for v in extent.extents), (width, height)))
        if text.get_fontsize() < figures.MIN_FONT:
            small.append((text.get_text(), text.get_fontsize()))
    assert not clipped, f"{name}: text outside the figure: {clipped}"
    assert not small, f"{name}: text below {figures.MIN_FONT} pt: {small}"


@pytest.mark.parametrize("name", FIGURES)
def test_figure_svg_uses_only_palette_colours_for_lines(name):
    svg = figures.to_svg(FIGURES[name]())
    strokes = {c.lower() for c in re.findall(r"stroke: ?(#[0-9a-fA-F]{6})", svg)}
    assert strokes <= {c.lower() for c in figures.PALETTE}, strokes - set(figures.PALETTE)
    assert f'data-figure="{name}"' in svg
    label = re.search(r'aria-label="([^"]+)"', svg)[1]
    assert label != name and len(label) > 80 and re.search(r"\d", label), label


def test_steps_v_reaches_one_step_at_one_over_lambda():
    fig = _steps_v()
    ax = fig.axes[0]
    curve = ax.lines[0]
    k, lr = curve.get_ydata(), curve.get_xdata()
    assert np.nanmin(k) == 1 and lr[np.nanargmin(k)] == pytest.approx(0.1)  # the legend's claim, in the data
    assert any("fewest: 1 at η = 0.1" in t.get_text() for t in ax.get_legend().get_texts())
    assert "lowest point, 1 step at η = 0.1" in fig._nnbasics_alt
    assert "η ≥ 0.2: diverges" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_every_decision_boundary_panel_shows_its_w_arrow_inside_the_plot():
    fig = _decision_boundaries()
    for ax, (w, _, _) in zip(fig.axes, SETTINGS):
        arrows = [a for a in ax.texts if isinstance(a, matplotlib.text.Annotation) and a.arrow_patch is not None]
        assert len(arrows) == 1
        tip = np.array(arrows[0].xy, dtype=float)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        assert x0 < tip[0] < x1 and y0 < tip[1] < y1, (w, tip)
        # along w: the same direction
        assert tip[0] * w[1] - tip[1] * w[0] == pytest.approx(0, abs=1e-9) and tip @ np.array(w) > 0
    # closed form for the alternative text: distance |b|/|w| of the third panel, strip 4/|w| of the second
    assert f"{1.5 / np.sqrt(2):.3g} from the origin" in fig._nnbasics_alt
    assert f"strip {4 / np.sqrt(32):.3g} wide" in fig._nnbasics_alt


def test_activation_std_panels_each_span_their_own_data():
    fig = _activation_stds()
    tanh_ax, relu_ax = fig.axes[:2]
    for ax, smallest, largest in [(tanh_ax, 0.1 * 0.15**10, 0.6), (relu_ax, 0.1 * 0.07**10, 0.8)]:
        lo, hi = ax.get_ylim()
        assert lo <= smallest and hi >= largest
        # no squashing: the data fill most of the panel's log range
        assert np.log10(largest / smallest) / np.log10(hi / lo) > 0.7
    assert "tanh: zeros 0, small" in fig._nnbasics_alt


def test_landscape_levels_are_evenly_spaced_not_quantiles():
    fig = _landscapes()
    from matplotlib.contour import ContourSet

    sets = [c for ax in fig.axes for c in ax.collections if isinstance(c, ContourSet)]
    assert len(sets) == 2
    for c in sets:
        steps = np.diff(c.levels)
        assert np.allclose(steps, steps[0])
    assert "bowl from 0 at w = (2, 2)" in fig._nnbasics_alt


def test_alt_texts_carry_numbers_computed_independently():
    # closed forms: max sigmoid' = 1/4; at m = -6, CE's push 1 - s and the squared error's 2 (1 - s) s (1 - s)
    assert "sigmoid 0.25, tanh 1, relu 1" in _activations()._nnbasics_alt
    s = 1 / (1 + np.exp(6.0))
    alt = _ce_vs_mse()._nnbasics_alt
    assert f"cross-entropy {1 - s:.3g}" in alt and f"squared error {2 * (1 - s) ** 2 * s:.3g}" in alt
    # the loss curves after 60 steps: eigen-directions shrink by |1 - lr lambda| each step
    alt = _loss_curves()._nnbasics_alt
    for lr in (0.02, 0.205):
        end = 0.5 * (abs(1 - lr) ** 120 + 10 * abs(1 - 10 * lr) ** 120)
        assert f"η = {lr}: {end:.2g}" in alt
    alt = _schedules()._nnbasics_alt
    assert f"goes from 0.1 to {0.1 * 0.5**5:.3g}" in alt  # step decay at epoch 59: 5 halvings
