"""A scalar reverse-mode autograd engine (its graphs are drawn by ``nnbasics.site.graph``).

Each operation builds a new ``Value`` and, beside the forward value, stores
the local backward step: how to pass ``out.grad`` to its inputs. One
``backward()`` visits the graph in reverse topological order, so a node's
gradient is complete (summed over every path to the output) before it is
passed on. Gradients accumulate with ``+=``: a node used twice gets both
contributions.
"""

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
