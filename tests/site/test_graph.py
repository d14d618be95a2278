"""``nnbasics.draw``: the Graphviz layout of an autograd graph, checked from the SVG's own geometry.

An edge "crosses" a node when a point of its curve (the cubic Béziers of its
path data, sampled) lies inside the box of a node that is neither its tail
nor its head; the arrowhead of every edge is a filled polygon.
"""

import html
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nnbasics as nn
from nnbasics.site.graph import describe, draw

SVG = "{http://www.w3.org/2000/svg}"


def _numbers(text):
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def _box(element):
    """(xmin, ymin, xmax, ymax) of a node's outline: a path or polygon (box) or an ellipse (operation)."""
    if element.tag == f"{SVG}ellipse":
        cx, cy, rx, ry = (float(element.get(k)) for k in ("cx", "cy", "rx", "ry"))
        return cx - rx, cy - ry, cx + rx, cy + ry
    xy = np.array(_numbers(element.get("d") or element.get("points"))).reshape(-1, 2)
    return (*xy.min(axis=0), *xy.max(axis=0))


def _bezier_points(d, samples=40):
    """Points along an SVG path made of ``M x,y C x1,y1 x2,y2 x3,y3 ...`` (what dot writes for edges)."""
    assert re.fullmatch(r"M[-\d., ]+C[-\d., ]+", d), d
    xy = np.array(_numbers(d)).reshape(-1, 2)
    assert (len(xy) - 1) % 3 == 0, d
    t = np.linspace(0, 1, samples)[:, None]
    points = []
    for k in range(0, len(xy) - 1, 3):
        p0, p1, p2, p3 = xy[k : k + 4]
        points.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t**2 * p2 + t**3 * p3)
    return np.concatenate(points)


def parse_graph(svg):
    """Nodes (name -> box and texts) and edges (tail, head, points, has arrowhead) of a ``draw`` SVG.

    The node names come from the edges' geometry: an edge's tail is the node
    whose box its first point touches, its head the node its arrowhead's tip touches.
    """
    root = ET.fromstring(svg)
    nodes = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "node":
            outline = next(el for el in g if el.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))
            nodes.append({"box": _box(outline), "texts": [t.text for t in g.iter(f"{SVG}text")]})
    edges = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "edge":
            path = g.find(f"{SVG}path")
            head = g.find(f"{SVG}polygon")
            edges.append(
                {
                    "points": _bezier_points(path.get("d")),
                    "arrow": head is not None and head.get("fill") == "currentColor",
                    "tip": np.array(_numbers(head.get("points"))).reshape(-1, 2) if head is not None else None,
                }
            )
    return root, nodes, edges


def _distance_to_box(point, box, pad=0.0):
    x0, y0, x1, y1 = box
    dx = max(x0 - pad - point[0], 0, point[0] - x1 - pad)
    dy = max(y0 - pad - point[1], 0, point[1] - y1 - pad)
    return np.hypot(dx, dy)


def _inside(point, box, inset=1.0):
    x0, y0, x1, y1 = box
    return x0 + inset < point[0] < x1 - inset and y0 + inset < point[1] < y1 - inset


def _endpoints(edge, nodes):
    """Indices of the nodes an edge starts at and points to (the nearest boxes to its first point and tip)."""
    start = edge["points"][0]
    tail = min(range(len(nodes)), key=lambda i: _distance_to_box(start, nodes[i]["box"]))
    tip = edge["tip"]
    head = min(range(len(nodes)), key=lambda i: min(_distance_to_box(p, nodes[i]["box"]) for p in tip))
    return tail, head


def assert_drawn_apart(svg, n_edges):
    """One arrow-headed edge per graph edge, none through a third node's box, left to right."""
    _, nodes, edges = parse_graph(svg)
    assert len(edges) == n_edges
    assert all(e["arrow"] for e in edges), "every edge needs an arrowhead"
    crossings = []
    for k, edge in enumerate(edges):
        tail, head = _endpoints(edge, nodes)
        assert _distance_to_box(edge["points"][0], nodes[tail]["box"]) < 3
        # left to right: the head lies right of the tail
        assert nodes[head]["box"][0] > nodes[tail]["box"][0], (nodes[tail]["texts"], nodes[head]["texts"])
        for i, node in enumerate(nodes):
            if i not in (tail, head) and any(_inside(p, node["box"]) for p in edge["points"]):
                crossings.append(f"edge {k} {nodes[tail]['texts']} -> {nodes[head]['texts']} crosses {node['texts']}")
    assert not crossings, "\n".join(crossings)
    return nodes, edges


def _graph_edges(root):
    """Edges of the drawing: one per input of each operation, one from each operation to its result."""
    return sum(len(n._prev) + 1 for n in root.topo_order() if n._op)


def _page_example():
    x, y = nn.Value(0.8, label="x"), nn.Value(0.5, label="y")
    u = x * y
    u.label = "u"
    v = u + x
    v.label = "v"
    L = v.tanh()
    L.label = "L"
    L.backward()
    return L, x, y


def test_the_page_example_is_drawn_apart_with_values_and_gradients():
    L, _, _ = _page_example()
    svg = draw(L)
    nodes, _ = assert_drawn_apart(svg, _graph_edges(L))
    assert len(nodes) == len(L.topo_order()) + 3  # 5 values and 3 operations
    texts = [" ".join(n["texts"]) for n in nodes]
    # closed form: dL/dx = (1 - tanh²(xy + x)) (y + 1), dL/dy = (1 - tanh²(xy + x)) x
    g = 1 - np.tanh(0.8 * 0.5 + 0.8) ** 2
    assert f"x data 0.8 grad {g * 1.5:.4g}" in texts
    assert f"y data 0.5 grad {g * 0.8:.4g}" in texts
    assert sorted(t for t in texts if t in ("*", "+", "tanh")) == ["*", "+", "tanh"]


def test_the_direct_edge_does_not_run_through_the_product():
    """x feeds both * and +: its two edges leave x apart, and the one to + passes * without touching it."""
    L, _, _ = _page_example()
    _, nodes, edges = parse_graph(draw(L))
    x = next(i for i, n in enumerate(nodes) if n["texts"][0] == "x")
    times = next(i for i, n in enumerate(nodes) if n["texts"] == ["*"])
    plus = next(i for i, n in enumerate(nodes) if n["texts"] == ["+"])
    direct = next(e for e in edges if _endpoints(e, nodes) == (x, plus))
    clearance = min(_distance_to_box(p, nodes[times]["box"]) for p in direct["points"])
    assert clearance > 2, f"the edge x -> + comes within {clearance:.1f} units of the * node"


def test_a_value_used_three_times_gets_three_separate_edges():
    x, y = nn.Value(2.0, label="x"), nn.Value(-1.0, label="y")
    out = (x * x + x * y + x).relu()
    out.label = "out"
    out.backward()
    assert_drawn_apart(draw(out), _graph_edges(out))
    assert x.grad == 2 * 2.0 + -1.0 + 1  # closed form d(x² + xy + x)/dx, relu active


def test_drawing_is_themed_and_named():
    L, _, _ = _page_example()
    svg = draw(L)
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and "width" not in root.attrib and root.get("viewBox")
    colours = set(re.findall(r'(?:fill|stroke)="([^"]+)"', svg))
    assert colours <= {"currentColor", "none"}, colours  # strokes and text follow the theme
    assert "<title>" not in svg and "<!--" not in svg and "<?xml" not in svg
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG}text")}
    assert min(sizes) >= 14
    label = root.get("aria-label")
    assert label == describe(L)
    assert "x = 0.8 and y = 0.5 enter *, giving u = 0.4." in label
    assert f"dL/dx = {(1 - np.tanh(1.2) ** 2) * 1.5:.4g}" in label
    assert draw(L, width=480).startswith('<svg width="480"')


def test_labels_are_escaped():
    a = nn.Value(1.0, label="a<&>")
    out = a * 2
    out.backward()
    svg = draw(out)
    ET.fromstring(svg)  # well formed
    assert "a&lt;&amp;&gt;" in svg and html.unescape("a&lt;&amp;&gt;") in describe(out)


def test_missing_dot_is_one_clear_error(monkeypatch):
    import graphviz

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    with pytest.raises(RuntimeError, match=r"needs Graphviz's `dot` program"):
        draw(nn.Value(1.0))


def test_the_crossing_check_catches_an_edge_through_a_node():
    """The check itself: the old drawing's fault (x -> + straight through *) is found."""
    L, _, _ = _page_example()
    svg = draw(L)
    _, nodes, edges = parse_graph(svg)
    times = next(n["box"] for n in nodes if n["texts"] == ["*"])
    plus = next(n["box"] for n in nodes if n["texts"] == ["+"])
    x = next(n["box"] for n in nodes if n["texts"][0] == "x")
    tx, ty = (times[0] + times[2]) / 2, (times[1] + times[3]) / 2
    start, end = (x[2], (x[1] + x[3]) / 2), (plus[0], (plus[1] + plus[3]) / 2)
    through = f"M{start[0]:.2f},{start[1]:.2f}C{tx:.2f},{ty:.2f} {tx:.2f},{ty:.2f} {end[0]:.2f},{end[1]:.2f}"
    paths = re.findall(r'<g id="edge\d+" class="edge">\s*<path fill="none" stroke="currentColor" d="([^"]+)"', svg)
    ix, iplus = (next(i for i, n in enumerate(nodes) if n["box"] == box) for box in (x, plus))
    k = next(k for k, e in enumerate(edges) if _endpoints(e, nodes) == (ix, iplus))
    broken = svg.replace(paths[k], through)
    assert broken != svg
    with pytest.raises(AssertionError, match="crosses"):
        assert_drawn_apart(broken, _graph_edges(L))
