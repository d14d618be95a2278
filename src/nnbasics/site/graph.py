"""Draw a scalar-autograd graph (``nnbasics.Value``) for the chain-rule page, as inline SVG laid out by Graphviz.

Graphviz's ``dot`` places the nodes in ranks from left (inputs) to right
(output) and routes every edge as a spline around the other nodes, so a
value used twice (``x`` in ``x * y + x``) gets two edges that are drawn apart
and never run through a third node. Each value is a rounded box with its
label, forward ``data`` and ``grad``; each operation a circle between its
inputs and its result. Strokes and text are drawn in ``currentColor``: the
drawing takes the page's text colour in light and dark mode alike.

Needs the ``dot`` program (Debian's ``graphviz`` package; ``make system-deps``).
"""

import re

# Sizes in SVG user units (points). The graph of the chain-rule page is about 560 units wide: shown at the
# article width of a 1280-px window (about 680 px) its 14-unit text is about 17 px, and never under 12 px
# unless the drawing is squeezed below 65 % of its natural width (the page's CSS keeps a minimum width).
FONT_SIZE = 14
FONT = "sans-serif"


def _fmt(value):
    """A number as the drawing and its text alternative print it: 4 significant digits."""
    return f"{value:.4g}"


def _name(node, index):
    """The label a node is drawn with (unlabelled values are numbered, so the text alternative can name them)."""
    return node.label or f"t{index}"


def describe(root):
    """A text alternative for ``draw(root)``: every operation with its inputs and result, and every gradient.

    Parameters
    ----------
    root : Value

    Returns
    -------
    str
        One sentence per operation, inputs first, e.g. ``"x = 0.8 and y = 0.5 enter *, giving u = 0.4."``,
        then the gradients of the output with respect to every value.
    """
    order = root.topo_order()
    names = {id(n): _name(n, i) for i, n in enumerate(order)}
    out = _name(root, len(order) - 1)
    steps = []
    for node in order:
        if node._op:
            inputs = " and ".join(f"{names[id(c)]} = {_fmt(c.data)}" for c in node._prev)
            steps.append(f"{inputs} enter {node._op}, giving {names[id(node)]} = {_fmt(node.data)}.")
    grads = ", ".join(f"d{out}/d{names[id(n)]} = {_fmt(n.grad)}" for n in reversed(order) if n is not root)
    return (
        f"Computational graph of {out}, inputs on the left, output on the right; each box shows a value's data "
        f"and its grad. " + " ".join(steps) + (f" Gradients: {grads}." if grads else "")
    )


def graph_source(root):
    """The graph under ``root`` as a ``graphviz.Digraph`` (not yet laid out).

    Parameters
    ----------
    root : Value

    Returns
    -------
    graphviz.Digraph
        Value nodes are named ``v<i>``, operation nodes ``op<i>``, with ``i``
        the node's place in ``root.topo_order()``; one edge per input of an
        operation, and one from the operation to its result.
    """
    import graphviz

    order = root.topo_order()
    index = {id(n): i for i, n in enumerate(order)}
    dot = graphviz.Digraph(
        graph_attr={"rankdir": "LR", "nodesep": "0.25", "ranksep": "0.3", "pad": "0.05", "bgcolor": "transparent"},
        node_attr={"fontname": FONT, "fontsize": str(FONT_SIZE), "color": "black", "fontcolor": "black"},
        edge_attr={"arrowsize": "0.8", "color": "black"},
    )
    for i, node in enumerate(order):
        # Three centred lines (\n in DOT): a wider browser font than dot's metrics overflows both sides alike.
        label = graphviz.escape(_name(node, i)) + rf"\ndata {_fmt(node.data)}\ngrad {_fmt(node.grad)}"
        dot.node(f"v{i}", label, shape="box", style="rounded", margin="0.14,0.05")
        if node._op:
            dot.node(f"op{i}", node._op, shape="circle", width="0.4", fixedsize="false", margin="0.02")
            for child in node._prev:
                dot.edge(f"v{index[id(child)]}", f"op{i}")
            dot.edge(f"op{i}", f"v{i}")
    return dot


def _theme(svg):
    """Graphviz's SVG made inline-ready: no prolog or comments, colours from the page, and it scales."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    svg = re.sub(
        r"<title>.*?</title>\s*", "", svg, flags=re.S
    )  # dot's node ids would be read out and shown as tooltips
    svg = svg.replace('"black"', '"currentColor"')
    svg = re.sub(r'<polygon fill="(?:white|transparent)" stroke="(?:none|transparent)"[^>]*/>\s*', "", svg, count=1)
    return re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", svg, count=1)


def draw(root, width=None):
    """Draw the graph under ``root`` as an SVG string, left (inputs) to right (output).

    Parameters
    ----------
    root : Value
        The output; ``backward()`` is usually called first, so that the drawing shows the gradients.
    width : int, optional
        Width attribute of the SVG (it scales with its container either way; default: none, the full width).

    Returns
    -------
    str
        An ``<svg role="img">`` element whose ``aria-label`` is ``describe(root)``.

    Raises
    ------
    RuntimeError
        When Graphviz's ``dot`` program is not installed.
    """
    import html

    import graphviz

    try:
        svg = graph_source(root).pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise RuntimeError(
            "nnbasics.draw needs Graphviz's `dot` program: install it (Debian: apt-get install graphviz; "
            "`make system-deps` does it)"
        ) from None
    svg = _theme(svg)
    size = f' width="{width}"' if width else ""
    label = html.escape(describe(root), quote=True)
    return svg.replace("<svg", f'<svg{size} role="img" aria-label="{label}" class="nn-graph-svg"', 1)
