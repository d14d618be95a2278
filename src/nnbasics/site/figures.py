"""Figures for the course site and its notebooks: matplotlib to inline SVG that follows the theme.

The concept pages compute every number with the core and hand the results to
one function per figure here (``activations``, ``steps_v``, ...), so that a
page's code block shows the idea and not the plotting calls. Each such
function returns a figure that carries its name and a text alternative,
written from the same data it plots (the key numbers included); ``show``
prints it as an inline ``<svg role="img" aria-label=...>``.

Legibility: the SVG scales with the article, about 688 px wide in a 1280-px
window and 358 px on a 390-px phone. Figures are ``WIDTH`` inches wide
(``WIDTH * 72`` SVG units) and no text is smaller than ``MIN_FONT`` points, so
the smallest text is ``MIN_FONT * 358 / (72 * WIDTH)`` ≈ 9.4 px on the phone
and about 18 px on the desktop. Text, axes and ticks are drawn in
``currentColor`` (the page's text colour, light or dark theme); the line
colours of ``PALETTE`` have a contrast of at least 3:1 against both the light
background (#ffffff) and Material's slate background (#1e2129), and lines also
differ by dash pattern, so no colour has to be told apart alone.

No pyplot: a ``matplotlib.figure.Figure`` with an SVG canvas has no global
state and imports faster. In a Jupyter kernel ``show`` displays the SVG.
"""

import atexit
import functools
import html
import io
import re
import sys

import numpy as np

# Blue, vermillion, green, purple, ochre, rose: relative luminance 0.17-0.24, so >= 3.4:1 on #ffffff and on #1e2129.
PALETTE = ("#2a7fd4", "#d55e00", "#009e73", "#9467bd", "#a06e00", "#cc6677")
DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)))

# The ink: drawn in this colour, rewritten to currentColor in the SVG (text, spines, ticks, grid; use it for lines that should follow the theme).
INK = "#010203"

WIDTH = 5.8  # inches: 417.6 SVG units
MIN_FONT = 11  # points (= SVG units)


def _style():
    """The site's matplotlib style (rcParams)."""
    import matplotlib as mpl

    return {
        "svg.fonttype": "none",  # real <text>: smaller, selectable, and coloured by the page
        "font.size": MIN_FONT,
        "axes.titlesize": MIN_FONT + 0.5,
        "axes.labelsize": MIN_FONT,
        "xtick.labelsize": MIN_FONT,
        "ytick.labelsize": MIN_FONT,
        "legend.fontsize": MIN_FONT,
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],  # the SVG names one font (then sans-serif), not a list of twelve
        "text.color": INK,
        "axes.labelcolor": INK,
        "axes.edgecolor": INK,
        "axes.titlecolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "grid.color": INK,
        "grid.alpha": 0.15,
        "axes.grid": True,
        "axes.facecolor": "none",
        "figure.facecolor": "none",
        "savefig.facecolor": "none",
        "legend.frameon": False,
        "legend.handlelength": 2.6,  # long enough to show each line's dash pattern
        "axes.prop_cycle": mpl.cycler(color=PALETTE, linestyle=DASHES),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "lines.linewidth": 2.0,
    }


def _styled(function):
    """Run a figure function in the site's style, so that legends and labels made in it get the style too."""

    @functools.wraps(function)
    def styled(*args, **kwargs):
        import matplotlib as mpl

        with mpl.rc_context(_style()):
            return function(*args, **kwargs)

    return styled


def figure(ncols=1, nrows=1, width=WIDTH, height=3.4, **subplot_kw):
    """A figure with a grid of axes in the site's style.

    Parameters
    ----------
    ncols, nrows : int
    width, height : float
        Size in inches (the SVG scales to the page width; keep ``width`` at
        ``WIDTH`` so that text keeps its size on a phone).
    **subplot_kw
        Passed to ``Figure.subplots`` (e.g. ``sharey=True``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes, shape (nrows, ncols) squeezed
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    style = _style()
    with mpl.rc_context(style):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasSVG(fig)
        axes = fig.subplots(nrows, ncols, **subplot_kw)
    fig._nnbasics_style = style  # applied again when saving: rc_context ends with this function
    return fig, axes


def _named(fig, name, alt):
    """Attach the figure's name (element ids, ``data-figure``) and its text alternative."""
    fig._nnbasics_name, fig._nnbasics_alt = name, " ".join(alt.split())
    return fig


def _g(value, digits=3):
    """A number in the text alternative: ``digits`` significant digits, no trailing zeros."""
    return f"{value:.{digits}g}"


def to_svg(fig, name=None, alt=None):
    """The figure as an inline ``<svg role="img">`` element that scales to its container.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str, optional
        Seeds the SVG's element ids (so that a page's figures do not share
        ids and the same figure gives the same bytes at every build) and is
        written as ``data-figure``. Default: the name a figure function gave.
    alt : str, optional
        The text alternative (``aria-label``). Default: the one a figure
        function wrote; else ``name``.

    Returns
    -------
    str
    """
    import matplotlib as mpl

    name = name or getattr(fig, "_nnbasics_name", "figure")
    alt = alt or getattr(fig, "_nnbasics_alt", None) or name
    for ax in fig.axes:  # a legend made after figure() returned missed the style's frameon=False
        if ax.get_legend() is not None:
            ax.get_legend().set_frame_on(False)
    buf = io.StringIO()
    style = {**getattr(fig, "_nnbasics_style", {}), "svg.hashsalt": f"nnbasics-{name}"}
    with mpl.rc_context(style):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML declaration and doctype: this goes inside HTML
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, count=1, flags=re.S)
    # A tenth of a point is finer than any screen shows: shorter path data makes smaller pages and faster builds.
    svg = re.sub(r' d="([^"]*)"', lambda m: ' d="' + re.sub(r"(\.\d)\d+", r"\1", m[1]) + '"', svg)
    # Inline SVGs share the page: a <style> in one would restyle every icon, and ids must be unique.
    svg = re.sub(r"\s*<style[^>]*>.*?</style>", "", svg, flags=re.S)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", name)
    svg = svg.replace(' id="', f' id="{prefix}-').replace("url(#", f"url(#{prefix}-")
    svg = svg.replace('xlink:href="#', f'xlink:href="#{prefix}-')
    # Artists made after figure() returned (labels, legends) took the default black: both become the page's ink.
    svg = svg.replace(INK, "currentColor").replace("#000000", "currentColor")
    # Fixed pt sizes would overflow a phone screen: keep the viewBox, let CSS set the width.
    # Black text gets no fill attribute from matplotlib: make the inherited default the ink too.
    # The aspect ratio, stated, keeps the figure's height while the browser skips drawing it off screen
    # (content-visibility in extra.css, which would otherwise give it a guessed height).
    width, height = re.search(r'<svg[^>]*? viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()
    svg = re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
        rf'<svg\1 class="nn-figure" role="img" fill="currentColor" style="aspect-ratio: {width} / {height}"',
        svg,
        count=1,
    )
    label = html.escape(alt, quote=True)
    return svg.replace("<svg", f'<svg data-figure="{html.escape(name)}" aria-label="{label}"', 1)


def _in_kernel():
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


# The site build draws figures in a second process (``draw_in_background``): drawing is ~40 % of a cold build and
# the build itself uses one core. ``show`` then prints a placeholder, which ``fill_in`` replaces by the SVG.
_background = {"pool": None, "build": 0, "jobs": []}
_PLACEHOLDER = "<!--nnbasics-figure:{build}:{n}-->"
_PLACEHOLDER_RE = re.compile(r"<!--nnbasics-figure:(\d+):(\d+)-->")


class FigureError(RuntimeError):
    """A figure handed to the background process could not be drawn."""


def _follow_parent():
    """In the worker: exit when the build's process is gone, even if it was killed (``mkdocs serve`` stopped)."""
    import multiprocessing.connection
    import os
    import threading

    parent = multiprocessing.parent_process()

    def wait():
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    if parent is not None:
        threading.Thread(target=wait, daemon=True).start()


def _warm_up():
    """Import what drawing needs, so that the first figure does not wait for it."""
    import matplotlib.backends.backend_svg
    import matplotlib.figure  # noqa: F401


def _shut_down():
    """At exit: stop the worker while the interpreter is whole (collected later, the executor prints a traceback)."""
    pool, _background["pool"] = _background["pool"], None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def draw_in_background():
    """From now on ``show`` hands figures to one worker process; each call starts a new build's placeholders.

    The worker is started once (``spawn``: the same on every platform) and kept for the life of the
    process, so that ``mkdocs serve`` rebuilds reuse it.
    """
    if _background["pool"] is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        _background["pool"] = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_follow_parent
        )
        atexit.register(_shut_down)
        _background["pool"].submit(_warm_up)
    _background["build"] += 1
    _background["jobs"] = []


def fill_in(text):
    """``text`` with each placeholder ``show`` printed replaced by the figure's SVG (waits for it if need be).

    Raises
    ------
    FigureError
        When the worker could not draw a figure (its name and the reason in the message).
    """

    def svg(match):
        build, n = int(match[1]), int(match[2])
        if build != _background["build"]:
            raise FigureError("a figure placeholder from an earlier build was left in a page")
        name, future = _background["jobs"][n]
        try:
            return future.result()
        except Exception as e:  # the worker's exception, or a broken pool
            raise FigureError(f"figure {name!r} could not be drawn: {e}") from None

    return _PLACEHOLDER_RE.sub(svg, text)


def show(obj, name=None, alt=None):
    """Show a figure: print its SVG markup (site build), or display it (Jupyter).

    During the site build (after ``draw_in_background``) the figure is drawn in the worker process and a
    placeholder is printed instead, for ``fill_in``.

    Parameters
    ----------
    obj : matplotlib.figure.Figure or str
        A figure, or SVG markup such as ``nnbasics.draw(root)`` returns.
    name, alt : str, optional
        Passed to ``to_svg``.
    """
    pool = _background["pool"]
    if isinstance(obj, str):
        svg = obj
    elif pool is not None and not _in_kernel():
        jobs = _background["jobs"]
        label = name or getattr(obj, "_nnbasics_name", "figure")
        jobs.append((label, pool.submit(to_svg, obj, name, alt)))  # the figure travels pickled
        svg = _PLACEHOLDER.format(build=_background["build"], n=len(jobs) - 1)
    else:
        svg = to_svg(obj, name, alt)
    if _in_kernel():
        from IPython.display import SVG, display

        display(SVG(svg))
    else:
        # markdown-exec captures a block's output by giving the block its own `print`: use the caller's.
        caller = sys._getframe(1).f_globals.get("print", print)
        caller(svg)


def _side_by_side(x, left_curves, right_curves, height):
    """Two panels sharing the x axis, one line per name in each (the same names, colours and dashes on both)."""
    fig, (left, right) = figure(ncols=2, height=height, sharex=True)
    for name, y in left_curves.items():
        left.plot(x, y, label=name)
        right.plot(x, right_curves[name], label=name)
    return fig, (left, right)


# -- the neuron -------------------------------------------------------------------


@_styled
def activations(zs, curves):
    """Activation functions (left) and their derivatives (right).

    Parameters
    ----------
    zs : ndarray, shape (M,)
    curves : dict
        ``name -> (phi(zs), phi'(zs))``, two arrays of shape (M,).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (left, right) = _side_by_side(
        zs, {n: v for n, (v, _) in curves.items()}, {n: d for n, (_, d) in curves.items()}, height=3.0
    )
    left.set(title="activation φ(z)", xlabel="z", ylim=(-1.2, 2.2))
    right.set(title="derivative φ′(z)", xlabel="z", ylim=(-0.1, 1.2))
    left.legend(loc="upper left")
    peaks = ", ".join(f"{name} {_g(slope.max())}" for name, (_, slope) in curves.items())
    alt = (
        f"Two panels for z from {_g(zs[0])} to {_g(zs[-1])}. Left: the activations {', '.join(curves)}. "
        f"Right: their derivatives, whose largest values are: {peaks}."
    )
    return _named(fig, "activations", alt)


@_styled
def decision_boundaries(grid, settings, outputs):
    """Sigmoid neurons of two inputs: output as colour, the boundary ``z = 0`` and the weight vector.

    Parameters
    ----------
    grid : ndarray, shape (G,)
        The abscissas and ordinates of the plane.
    settings : list of (w, b, title)
        ``w`` a pair, ``b`` a float, one panel each (four).
    outputs : list of ndarray, shape (G, G)
        The neuron's output on the grid, one per setting.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..neuron import decision_boundary

    rows = (len(settings) + 1) // 2
    fig, axes = figure(ncols=2, nrows=rows, height=2.75 * rows + 0.3, sharex=True, sharey=True)
    lim = (grid[0], grid[-1])
    described = []
    low, high = 1 / (1 + np.exp(2)), 1 / (1 + np.exp(-2))  # sigmoid(-2), sigmoid(2): the strip |z| <= 2
    for ax, (w, b, title), a in zip(axes.ravel(), settings, outputs):
        w = np.asarray(w, dtype=float)
        ax.contourf(grid, grid, a, levels=np.linspace(0, 1, 11), cmap="PuOr", alpha=0.55)
        ax.plot(grid, decision_boundary(w, b, grid), color=INK, lw=2)
        norm = np.linalg.norm(w)
        # The arrow is w itself where it fits, else w shortened to 2.4 (its direction is what the line follows).
        tip = w if norm <= 2.4 else w * 2.4 / norm
        ax.annotate("", xy=tip, xytext=(0, 0), arrowprops={"arrowstyle": "-|>", "color": PALETTE[1], "lw": 2.2})
        ax.annotate("w" if tip is w else "w (shortened)", xy=tip, xytext=(4, -12), textcoords="offset points")
        ax.set(title=title, xlim=lim, ylim=lim, aspect="equal")
        described.append(
            f"w = ({_g(w[0])}, {_g(w[1])}) and b = {_g(b)}: the boundary is {_g(abs(b) / norm)} from the origin "
            f"and the output goes from {_g(low, 2)} to {_g(high, 2)} across a strip {_g(4 / norm)} wide"
        )
    for ax in axes[-1]:
        ax.set_xlabel("x₁")
    for ax in axes[:, 0]:
        ax.set_ylabel("x₂")
    alt = (
        f"Four panels of the plane from {_g(lim[0])} to {_g(lim[1])}, each with the output of a sigmoid neuron as colour, "
        "orange below 0.5 and purple above, the boundary line where it is 0.5, and an arrow along w, perpendicular "
        "to the line and pointing to the purple side. " + "; ".join(described) + "."
    )
    return _named(fig, "decision-boundary", alt)


# -- the learning rate ---------------------------------------------------------


@_styled
def loss_curves(rates, losses, lr_max):
    """Loss against step for several learning rates, on a log scale.

    Parameters
    ----------
    rates : sequence of float
    losses : list of ndarray, shape (steps + 1,)
        One loss curve per rate.
    lr_max : float
        The stability limit ``2 / lambda_max``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure(height=3.5)
    for lr, curve in zip(rates, losses):
        ax.semilogy(np.arange(len(curve)), curve, label=f"η = {lr}")
    ax.set(xlabel="step", ylabel="loss (log scale)", ylim=(1e-12, 1e3), title=f"stable iff η < {lr_max:g}")
    ax.legend(ncols=2, loc="lower left")
    ends = "; ".join(f"η = {lr}: {_g(curve[-1], 2)}" for lr, curve in zip(rates, losses))
    alt = (
        f"Loss against step, log scale, for learning rates {', '.join(map(str, rates))} on a quadratic whose "
        f"stability limit is {lr_max:g}. Loss after {len(losses[0]) - 1} steps: {ends}."
    )
    return _named(fig, "loss-curves", alt)


@_styled
def steps_v(lam, lrs, steps):
    """Steps to converge against the learning rate: the "V", with its lowest point marked.

    Parameters
    ----------
    lam : float
    lrs : ndarray, shape (M,)
        Learning rates, ``1 / lam`` among them (else the curve misses its lowest point).
    steps : ndarray, shape (M,)
        ``steps_to_converge(lam, lrs)``; ``inf`` where it diverges.

    Returns
    -------
    matplotlib.figure.Figure
    """
    finite = np.isfinite(steps)
    best = int(np.argmin(np.where(finite, steps, np.inf)))
    fig, ax = figure(height=3.3)
    ax.semilogy(lrs, np.where(finite, steps, np.nan), label="steps to |w| ≤ 10⁻⁶")
    ax.plot(lrs[best], steps[best], "o", color=PALETTE[2], ms=7, label=f"fewest: {steps[best]:g} at η = {lrs[best]:g}")
    edge = lrs[~finite & (lrs > lrs[best])].min()
    ax.axvspan(edge, lrs[-1], color=PALETTE[1], alpha=0.2, lw=0, label=f"η ≥ {edge:g}: diverges")
    ax.set(xlabel="learning rate η", ylabel="steps (log scale)", title=f"L(w) = λw²/2, λ = {lam:g}")
    ax.legend(loc="upper center")
    alt = (
        f"Steps to converge against the learning rate for λ = {lam:g}, log scale: a V that falls from "
        f"{steps[finite].max():g} steps at η = {lrs[finite][0]:g} to its lowest point, {steps[best]:g} step at "
        f"η = {lrs[best]:g} (1/λ), rises again towards {edge:g} (2/λ) and from there on never converges."
    )
    return _named(fig, "steps-v", alt)


@_styled
def schedules(epochs, curves):
    """Learning-rate schedules against the epoch.

    Parameters
    ----------
    epochs : ndarray of int, shape (E,)
    curves : dict
        ``label -> learning rates``, arrays of shape (E,); a label starting with ``step`` is drawn as steps.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure(height=2.9)
    for label, lr in curves.items():
        if label.startswith("step"):
            ax.step(epochs, lr, where="post", label=label)
        else:
            ax.plot(epochs, lr, label=label)
    ax.set(xlabel="epoch", ylabel="learning rate")
    ax.legend()
    ends = "; ".join(f"{label} goes from {_g(lr[0])} to {_g(lr[-1])}" for label, lr in curves.items())
    alt = f"Learning rate against epoch, epochs {epochs[0]} to {epochs[-1]}: {ends}."
    return _named(fig, "schedules", alt)


@_styled
def lr_range_test(lrs, losses, best):
    """A learning-rate range test: the loss of a short run whose learning rate grows each step.

    Parameters
    ----------
    lrs : ndarray, shape (E,)
        The learning rate of each step, growing geometrically.
    losses : ndarray, shape (E,)
    best : int
        Index of the lowest loss.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = figure(height=3.2)
    ax.loglog(lrs, losses, label="loss during the sweep")
    ax.plot(lrs[best], losses[best], "o", color=PALETTE[2], ms=7, label=f"lowest at η ≈ {lrs[best]:.2g}")
    ax.axvline(lrs[best] / 10, color=PALETTE[1], ls="--", label=f"a tenth of it: η ≈ {lrs[best] / 10:.2g}")
    ax.set(xlabel="learning rate η of the step (log scale)", ylabel="loss (log scale)")
    ax.legend(loc="upper left")
    alt = (
        f"Range test: the loss against the learning rate, which grows from {lrs[0]:.2g} to {lrs[-1]:.2g} over "
        f"{len(lrs)} steps, both on log scales. The loss falls from {losses[0]:.2g} to its lowest, "
        f"{losses[best]:.2g}, at η ≈ {lrs[best]:.2g}, then shoots up to {losses[best + 1 :].max():.2g}; "
        f"a dashed line marks a tenth of the best rate, {lrs[best] / 10:.2g}."
    )
    return _named(fig, "lr-range-test", alt)


# -- initialization ------------------------------------------------------------


@_styled
def activation_stds(stds, layers):
    """Standard deviation of each hidden layer's activations, one panel per activation, log scale.

    Parameters
    ----------
    stds : dict
        ``(activation, scheme) -> ndarray of shape (layers,)``.
    layers : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    acts = list(dict.fromkeys(a for a, _ in stds))
    schemes = list(dict.fromkeys(s for _, s in stds))
    fig, axes = figure(ncols=len(acts), height=3.6)
    depth = np.arange(1, layers + 1)
    for ax, act in zip(axes, acts):
        positive = []
        for scheme in schemes:
            s = stds[act, scheme]
            line = np.where(s > 0, s, np.nan)
            ax.semilogy(depth, line, marker="o", ms=3.5, label=scheme if s.any() else f"{scheme}: std 0")
            positive.extend(s[s > 0])
        # Each panel its own range (a shared one squashed the tanh panel into a sliver): data plus a margin.
        ax.set_ylim(min(positive) / 5, max(positive) * 5)
        ax.set(title=f"{act} network", xlabel="layer", xticks=[1, 4, 7, 10])
    axes[0].set_ylabel("std of activations")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    last = "; ".join(
        f"{act}: " + ", ".join(f"{scheme} {_g(stds[act, scheme][-1], 2)}" for scheme in schemes) for act in acts
    )
    alt = (
        f"Two panels, {' and '.join(acts)} networks of {layers} layers: the standard deviation of each layer's "
        f"activations, log scale, for the initializations {', '.join(schemes)}. At layer {layers}: {last}."
    )
    return _named(fig, "activation-std", alt)


# -- loss ------------------------------------------------------------------------


@_styled
def ce_vs_mse(m, losses, pushes):
    """Two losses of the margin and their gradients (as the push towards the right answer).

    Parameters
    ----------
    m : ndarray, shape (M,)
    losses, pushes : dict
        ``name -> ndarray of shape (M,)``: the loss, and ``-d loss / d m``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (left, right) = _side_by_side(m, losses, pushes, height=3.2)
    left.set(title="loss", xlabel="margin m", ylim=(-0.2, 5))
    right.set(title="push, −∂loss/∂m", xlabel="margin m")
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    at = int(np.argmin(np.abs(m + 6)))
    pushes_at = ", ".join(f"{name} {_g(pushes[name][at])}" for name in pushes)
    alt = (
        f"Two panels against the margin m from {_g(m[0])} to {_g(m[-1])}: left the losses "
        f"{' and '.join(losses)}, right their push towards the right answer, −∂loss/∂m. "
        f"At m = {_g(m[at])} the push is: {pushes_at}."
    )
    return _named(fig, "ce-vs-mse", alt)


@_styled
def loss_landscapes(grid, landscapes, levels=12):
    """Filled contours of losses over a plane of weight vectors, with equally spaced levels.

    Parameters
    ----------
    grid : ndarray, shape (G,)
    landscapes : dict
        ``name -> ndarray of shape (G * G,)``, row-major over (w2, w1).
    levels : int
        Number of equally spaced contour levels between the smallest and largest loss: equal steps of loss
        per colour, so a plateau is one wide band of colour (quantile levels would split it into many).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = figure(ncols=len(landscapes), height=4.0, sharey=True)
    described = []
    for ax, (name, L) in zip(axes, landscapes.items()):
        L2 = L.reshape(len(grid), len(grid))
        c = ax.contourf(grid, grid, L2, levels=np.linspace(L.min(), L.max(), levels + 1), cmap="viridis")
        i, j = np.unravel_index(np.argmin(L2), L2.shape)
        ax.plot(grid[j], grid[i], marker="*", ms=13, color=PALETTE[1], mec=INK, mew=0.8)
        ax.set(title=name, xlabel="w₁")
        ax.set_box_aspect(1)  # square panels of a square grid: equal scales, and constrained layout keeps the title in
        fig.colorbar(c, ax=ax, location="bottom", shrink=0.9, format="%.2g", ticks=np.linspace(L.min(), L.max(), 3))
        described.append(f"{name} from {_g(L.min())} at w = ({_g(grid[j])}, {_g(grid[i])}) to {_g(L.max())}")
    axes[0].set_ylabel("w₂")
    alt = (
        f"Filled contours of the mean loss over weight vectors (w₁, w₂) from {_g(grid[0])} to {_g(grid[-1])}, "
        f"{levels} equally spaced levels, a star at the lowest point: " + "; ".join(described) + "."
    )
    return _named(fig, "loss-landscape", alt)


# -- the chain rule ----------------------------------------------------------------


@_styled
def grad_norms(histories):
    """Per-layer gradient norms at the first step (left) and the training loss (right) of several runs.

    Parameters
    ----------
    histories : dict
        ``name -> history`` as ``nnbasics.train_mlp`` returns it (``grad_norms``, ``loss``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, (left, right) = figure(ncols=2, height=3.6)
    for name, h in histories.items():
        norms = h["grad_norms"][0]
        left.semilogy(np.arange(1, len(norms) + 1), norms, marker="o", ms=3.5, label=name)
        right.plot(h["loss"], label=name)
    left.set(title="‖∂L/∂W‖ at step 1", xlabel="layer (1 = input)")
    right.set(title="training loss", xlabel="epoch", ylim=(0, 1))
    fig.legend(*left.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    runs = "; ".join(
        f"{name}: layer 1 {_g(h['grad_norms'][0, 0], 2)}, last hidden layer {_g(h['grad_norms'][0, -2], 2)}, "
        f"final loss {_g(h['loss'][-1], 2)}"
        for name, h in histories.items()
    )
    alt = (
        "Left: the norm of each layer's weight gradient at the first step, log scale; right: the training loss "
        f"over {len(next(iter(histories.values()))['loss'])} epochs. {runs}."
    )
    return _named(fig, "grad-norms", alt)
