"""A scalar reverse-mode autograd engine, and a drawing of its graphs.

Each operation builds a new ``Value`` and, beside the forward value, stores
the local backward step: how to pass ``out.grad`` to its inputs. One
``backward()`` visits the graph in reverse topological order, so a node's
gradient is complete (summed over every path to the output) before it is
passed on. Gradients accumulate with ``+=``: a node used twice gets both
contributions.
"""

import html
import math


class Value:
    """A scalar in a computation graph.

    Attributes
    ----------
    data : float
        The forward value.
    grad : float
        dOutput/dself after ``backward()`` on the output (0 before).
    label : str
        A name for drawings.
    """

    def __init__(self, data, _children=(), _op="", label=""):
        try:
            self.data = float(data)
        except (TypeError, ValueError):
            raise TypeError(f"a Value holds a number, got {type(data).__name__} {data!r}") from None
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g})"

    # -- operations: forward value and local backward side by side ------------

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        if isinstance(k, Value) or not isinstance(k, int | float):
            raise TypeError(f"the exponent must be a number, got {type(k).__name__}")
        if self.data < 0 and not float(k).is_integer():
            raise ValueError(f"a negative base ({self.data:g}) has no real power {k:g}")
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"0 cannot be raised to the negative power {k:g} (a division by zero)")
        out = Value(self.data**k, (self,), f"**{k:g}")

        def _backward():  # d(a^k)/da = k a^(k-1)
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        """tanh of this value."""
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)^2
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        """max(this, 0); no gradient passes at 0, as PyTorch."""
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward():  # d relu(a)/da = 1 if a > 0 else 0
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        """e to this value."""
        e = math.exp(self.data)
        out = Value(e, (self,), "exp")

        def _backward():  # d e^a/da = e^a
            self.grad += e * out.grad

        out._backward = _backward
        return out

    def log(self):
        """Natural log of this (positive) value."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():  # d log(a)/da = 1/a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    # -- everything else is built from the operations above ------------------

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * (other if isinstance(other, Value) else Value(other)) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return Value(other) - self

    def __rtruediv__(self, other):
        return Value(other) / self

    # -- the chain rule over the whole graph ---------------------------------

    def topo_order(self):
        """Every node this value depends on, inputs before the nodes that use them."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        return order

    def backward(self):
        """Add dself/dnode to ``grad`` of every node below this one.

        Like PyTorch, the inputs' (leaves') gradients accumulate across calls
        until ``zero_grad()``; an intermediate node holds this call's gradient only.
        """
        order = self.topo_order()
        for node in order:
            if node._prev:  # else a second call would pass on the first call's gradient again, doubled
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self):
        """Set ``grad`` of this node and everything below it to 0."""
        for node in self.topo_order():
            node.grad = 0.0


def draw(root, width=None):
    """Draw the graph under ``root`` as an SVG string, left (inputs) to right (output).

    Each value is a box with its label, ``data`` and ``grad``; each operation
    a circle. Colours come from ``currentColor``, so the drawing follows the
    page's light or dark theme.

    Parameters
    ----------
    root : Value
    width : int, optional
        Width attribute of the SVG (it scales; default: natural size).

    Returns
    -------
    str
        An ``<svg>`` element.
    """
    order = root.topo_order()
    depth = {}
    for node in order:  # inputs first, so children are placed before their users
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    col_x = {d: 30 + d * 260 for d in set(depth.values())}
    rows = {}
    pos = {}
    for node in order:
        d = depth[id(node)]
        pos[id(node)] = (col_x[d], 30 + rows.get(d, 0) * 80)
        rows[d] = rows.get(d, 0) + 1
    box_w, box_h, op_dx = 150, 44, -45
    parts = []
    for node in order:
        x, y = pos[id(node)]
        for child in node._prev:
            cx, cy = pos[id(child)]
            tx, ty = (x + op_dx, y + box_h / 2) if node._op else (x, y + box_h / 2)
            parts.append(
                f'<path d="M{cx + box_w},{cy + box_h / 2} C{cx + box_w + 40},{cy + box_h / 2} '
                f'{tx - 40},{ty} {tx - 14},{ty}" fill="none" stroke="currentColor" stroke-opacity="0.5"/>'
            )
        if node._op:
            ox, oy = x + op_dx, y + box_h / 2
            parts.append(
                f'<circle cx="{ox}" cy="{oy}" r="14" fill="none" stroke="currentColor"/>'
                f'<text x="{ox}" y="{oy + 4}" text-anchor="middle" font-size="11">{html.escape(node._op)}</text>'
                f'<line x1="{ox + 14}" y1="{oy}" x2="{x}" y2="{oy}" stroke="currentColor" stroke-opacity="0.5"/>'
            )
        name = html.escape(node.label) + " | " if node.label else ""
        parts.append(
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" fill="none" stroke="currentColor"/>'
            f'<text x="{x + box_w / 2}" y="{y + 18}" text-anchor="middle" font-size="12">'
            f"{name}data {node.data:.4g}</text>"
            f'<text x="{x + box_w / 2}" y="{y + 35}" text-anchor="middle" font-size="12" '
            f'fill="#e8710a">grad {node.grad:.4g}</text>'
        )
    w = max(col_x.values()) + box_w + 30
    h = 30 + max(rows.values()) * 80
    size = f' width="{width}"' if width else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}"{size} role="img" '
        f'aria-label="computational graph" fill="currentColor" font-family="sans-serif">' + "".join(parts) + "</svg>"
    )
