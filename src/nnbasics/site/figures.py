"""Figures for the course site and its notebooks: matplotlib to inline SVG that follows the theme.

The site prints each figure as an inline ``<svg>``; text, axes and ticks are
drawn in ``currentColor``, so they take the page's text colour in light and
dark mode alike, and the line colours (Okabe-Ito, minus the yellow and the
dark blue) read on both a white and a near-black background. In a Jupyter
kernel ``show`` displays the same SVG instead of printing its markup.

No pyplot: a ``matplotlib.figure.Figure`` with an SVG canvas has no global
state and imports faster.
"""

import io
import re
import sys

# Legible on white and on Material's slate (#1e2129) background.
PALETTE = ("#56b4e9", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#8f8fff")

# The ink: drawn in this colour, rewritten to currentColor in the SVG (text, spines, ticks, grid; use it for lines that should follow the theme).
INK = "#010203"


def figure(ncols=1, nrows=1, width=6.4, height=3.6, **subplot_kw):
    """A figure with a grid of axes in the site's style.

    Parameters
    ----------
    ncols, nrows : int
    width, height : float
        Size in inches (the SVG scales to the page width).
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

    style = {
        "svg.fonttype": "none",  # real <text>: smaller, selectable, and coloured by the page
        "font.size": 10,
        "font.family": "sans-serif",
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
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "lines.linewidth": 1.8,
    }
    with mpl.rc_context(style):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasSVG(fig)
        axes = fig.subplots(nrows, ncols, **subplot_kw)
    fig._nnbasics_style = style  # applied again when saving: rc_context ends with this function
    return fig, axes


def to_svg(fig, name="figure"):
    """The figure as an inline ``<svg>`` element that scales to its container.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    name : str
        Seeds the SVG's element ids, so that a page's figures do not share ids
        and the same figure gives the same bytes at every build.

    Returns
    -------
    str
    """
    import matplotlib as mpl

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
    svg = re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"',
        r'<svg\1 class="nn-figure" role="img" fill="currentColor"',
        svg,
        count=1,
    )
    return svg.replace("<svg", f'<svg aria-label="{name}"', 1)


def _in_kernel():
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def show(obj, name="figure"):
    """Show a figure: print its SVG markup (site build), or display it (Jupyter).

    Parameters
    ----------
    obj : matplotlib.figure.Figure or str
        A figure, or SVG markup such as ``nnbasics.draw(root)`` returns.
    name : str
        Passed to ``to_svg``.
    """
    svg = obj if isinstance(obj, str) else to_svg(obj, name)
    if _in_kernel():
        from IPython.display import SVG, display

        display(SVG(svg))
    else:
        # markdown-exec captures a block's output by giving the block its own `print`: use the caller's.
        caller = sys._getframe(1).f_globals.get("print", print)
        caller(svg)
