import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nnbasics import Value, draw, numerical_gradient, rel_error

SVG = "{http://www.w3.org/2000/svg}"


def _tanh(v):
    return v.tanh() if isinstance(v, Value) else math.tanh(v)


def _exp(v):
    return v.exp() if isinstance(v, Value) else math.exp(v)


def _relu(v):
    return v.relu() if isinstance(v, Value) else max(v, 0.0)


def _log(v):
    return v.log() if isinstance(v, Value) else math.log(v)


# Each expression is written once and evaluated both on Values and on floats: the float version,
# differentiated by centred differences, is the independent check of backward().
EXPRESSIONS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**3 + b**-2 + (a * a) ** 0.5,
    "neg": lambda a, b: -a * b,
    "tanh": lambda a, b: _tanh(a * b),
    "relu": lambda a, b: _relu(a) + _relu(b) * 3,
    "exp": lambda a, b: _exp(a - b),
    "log": lambda a, b: _log(a * a + b * b),
    "reflected": lambda a, b: 2 * a + 3 - b + (1 - a) * (5 / b) - 2 / a + 1.5 * b,
    "reused": lambda a, b: (a * b) * (a * b) + a * b + a / (a + b * b),
    "mixed": lambda a, b: _tanh(a) * _exp(b / 4) - (a - b) ** 2 / (1 + b * b) + _relu(a * b - 0.1),
}
POINTS = [(0.7, -1.3), (-0.4, 2.1), (1.9, 0.6)]


def _value_grads(expr, a, b):
    va, vb = Value(a), Value(b)
    out = expr(va, vb)
    out.backward()
    return out.data, np.array([va.grad, vb.grad])


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("name", EXPRESSIONS)
def test_value_against_finite_differences(name, point):
    expr = EXPRESSIONS[name]
    data, grads = _value_grads(expr, *point)
    assert data == pytest.approx(expr(*point), rel=1e-14, abs=1e-15)
    numeric = numerical_gradient(lambda v: expr(float(v[0]), float(v[1])), np.array(point))
    assert rel_error(grads, numeric) < 1e-7


def test_reflected_operators_closed_forms():
    a = Value(2.0)
    for out, value, grad in [
        (2 * a, 4.0, 2.0),
        (a * 2, 4.0, 2.0),
        (3 + a, 5.0, 1.0),
        (a + 3, 5.0, 1.0),
        (1 - a, -1.0, -1.0),
        (a - 1, 1.0, 1.0),
        (1 / a, 0.5, -0.25),
        (a / 4, 0.5, 0.25),
        (-a, -2.0, -1.0),
        (a**3, 8.0, 12.0),
        (a**-1, 0.5, -0.25),
        (a**0.5, math.sqrt(2), 0.5 / math.sqrt(2)),
    ]:
        a.grad = 0.0
        out.backward()
        assert (out.data, a.grad) == (pytest.approx(value, rel=1e-15), pytest.approx(grad, rel=1e-15))


def test_against_pytorch():
    # torch 2.13.0, float64, micrograd's sanity check:
    # a = -4, b = 2; c = a + b; d = a * b + b**3; c += c + 1; c += 1 + c + (-a); d += d * 2 + (b + a).relu()
    # d += 3 * d + (b - a).relu(); e = c - d; f = e**2; g = f / 2.0; g += 10.0 / f; g.backward()
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.70408163265306, rel=1e-14)
    assert a.grad == pytest.approx(138.83381924198252, rel=1e-14)
    assert b.grad == pytest.approx(645.5772594752186, rel=1e-14)
    # torch 2.13.0: o = (x*y).tanh() + (x/y).exp() - 2/x + 1 - y**3 + (x-y).relu()*0.5 at x = 0.7, y = -1.3
    x, y = Value(0.7), Value(-1.3)
    o = (x * y).tanh() + (x / y).exp() - 2 / x + 1 - y**3 + (x - y).relu() * 0.5
    o.backward()
    assert (o.data, x.grad, y.grad) == (
        pytest.approx(1.2023703669240176, rel=1e-14),
        pytest.approx(3.508715839181448, rel=1e-14),
        pytest.approx(-5.475768857260595, rel=1e-14),
    )


def test_gradients_accumulate_over_every_path():
    a = Value(3.0)
    (a * a).backward()
    assert a.grad == 6.0  # both factors are a
    b = Value(3.0)
    (b + b + b).backward()
    assert b.grad == 3.0
    x, w = Value(1.5), Value(-2.0)
    h = x * w  # h is used three times below: d/dx (h*h + h + tanh(h)) = w (2h + 1 + 1 - tanh(h)**2)
    out = h * h + h + h.tanh()
    out.backward()
    hv = 1.5 * -2.0
    assert x.grad == pytest.approx(-2.0 * (2 * hv + 1 + 1 - math.tanh(hv) ** 2), rel=1e-14)
    assert w.grad == pytest.approx(1.5 * (2 * hv + 1 + 1 - math.tanh(hv) ** 2), rel=1e-14)


def test_backward_accumulates_across_calls_and_zero_grad_resets():
    a = Value(2.0)
    out = a * a * 3
    out.backward()
    out.backward()
    assert a.grad == 24.0  # 12 + 12, as PyTorch's .grad
    out.zero_grad()
    assert a.grad == 0.0 and out.grad == 0.0
    out.backward()
    assert a.grad == 12.0


def test_deep_chain_needs_no_recursion():
    a = Value(1.0)
    x = a
    for _ in range(20_000):
        x = x * 0.9999 + 0.0001
    x.backward()
    assert a.grad == pytest.approx(0.9999**20_000, rel=1e-10)  # closed form of the chain rule
    assert x.data == pytest.approx(1.0, rel=1e-12)  # 1 is the map's fixed point


def test_relu_passes_no_gradient_at_zero():
    a = Value(0.0)
    a.relu().backward()
    assert a.grad == 0.0


def test_bad_input_messages():
    with pytest.raises(TypeError, match=r"^a Value holds a number, got str 'x'$"):
        Value(1.0) + "x"
    with pytest.raises(TypeError, match=r"^the exponent must be a number, got Value$"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match=r"^a negative base \(-2\) has no real power 0.5$"):
        Value(-2.0) ** 0.5
    assert (Value(-2.0) ** 2.0).data == 4.0  # an integral float exponent is fine
    with pytest.raises(ZeroDivisionError, match=r"^0 cannot be raised to the negative power -1"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ValueError, match=r"^log needs a positive value, got -1.0$"):
        Value(-1.0).log()


def _graph():
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(1.0, label="b<&>")
    n = x * w + b
    n.label = "n"
    out = n.tanh()
    out.label = "out"
    out.backward()
    return out


def test_draw_returns_well_formed_svg_with_one_box_per_node():
    out = _graph()
    svg = draw(out, width=480)
    root = ET.fromstring(svg)  # raises on malformed XML (e.g. an unescaped '<' in a label)
    assert root.tag == f"{SVG}svg" and root.get("width") == "480"
    nodes = out.topo_order()
    assert len(nodes) == 6  # x, w, b, x*w, n, out
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
    boxes = [g for g in groups if g.find(f"{SVG}path") is not None]  # values: rounded boxes
    circles = [g for g in groups if g.find(f"{SVG}ellipse") is not None]  # operations
    assert len(boxes) == len(nodes) and len(circles) == 3
    ops = [g.find(f"{SVG}text").text for g in circles]
    assert sorted(ops) == ["*", "+", "tanh"]
    texts = [" ".join(t.text for t in g.iter(f"{SVG}text")) for g in boxes]
    # d out/d b = 1 - tanh²(n) (closed form), and the output's own gradient is 1
    assert f"b<&> data 1 grad {1 - math.tanh(-5.0) ** 2:.4g}" in texts
    assert f"out data {out.data:.4g} grad 1" in texts
    assert "width=" not in draw(out).split(">")[0]  # natural size without width


def test_topo_order_puts_inputs_first():
    out = _graph()
    order = out.topo_order()
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is out
    for node in order:
        for child in node._prev:
            assert position[id(child)] < position[id(node)]
