"""The mutation bank: plausible wrong answers to every graded function, and tools to run them.

``MUTANTS[assignment][grade_id]`` is a list of mutants; a mutant is
``(label, (old, new), ...)``: each ``old`` text of the solution cell (in
``solutions/``) is replaced by ``new``; ``old = BODY`` replaces the whole
``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region. Every mutant must lose
points on its own test cell (``test_<grade_id>``) and nowhere else.

Usable outside pytest (``from testkit import mutants``)::

    build_submission("01_neuron", "sigmoid", 0)   # nbformat notebook: released cells, answers filled in
    failing_tests("01_neuron", "sigmoid", 0)      # {grade_id: message} of the test cells that fail
    python tests/testkit/mutants.py               # runs the whole bank and prints the mutation score
"""

import copy
import sys
import textwrap
import warnings
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
BODY = None  # as ``old``: the whole solution region
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

_RED = "raise ValueError(f\"reduction must be 'mean', 'sum' or 'none', got {reduction!r}\")"
_SIG2 = "e = np.exp(-np.abs(z))\n    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))"
_BCE_LOGS = (
    'with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below\n'
    "        log_p = np.maximum(np.log(p), -100)\n"
    "        log_1mp = np.maximum(np.log(1 - p), -100)"
)
_FAN = 'fan = shape[1] * receptive if mode == "fan_in" else shape[0] * receptive'
_GAIN_A = "gain = math.sqrt(2.0 / (1 + a**2))"
_GAIN_OTHER = 'gain = {"relu": math.sqrt(2.0), "tanh": 5.0 / 3, "selu": 0.75}.get(nonlinearity, 1.0)'
_MODE_CHECK = (
    'if mode not in ("fan_in", "fan_out"):\n'
    "        raise ValueError(f\"mode must be 'fan_in' or 'fan_out', got {mode!r}\")\n    "
)
_RNG_NONE = "if rng is None:\n        rng = np.random.default_rng()\n    "
_TOPO = """order, seen = [], set()

        def visit(node):  # depth-first: a node is appended after all of its inputs
            if node not in seen:
                seen.add(node)
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()"""

MUTANTS = {
    "01_neuron": {
        "weighted_sum": [
            ("np.sum(x * w) sums the whole batch", ("return x @ w + b", "return np.sum(x * w) + b")),
            ("w @ x instead of x @ w", ("return x @ w + b", "return np.dot(w, x) + b")),
            ("bias added to every feature", ("return x @ w + b", "return (x + b) @ w")),
            (
                "float32 turned into float64",
                ("return x @ w + b", "return np.asarray(x, dtype=float) @ np.asarray(w, dtype=float) + b"),
            ),
        ],
        "sigmoid": [
            ("naive 1 / (1 + exp(-z)) overflows", (BODY, "return 1 / (1 + np.exp(-z))")),
            (
                "np.where with an overflowing branch",
                (BODY, "return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))"),
            ),
            ("clips z to [-500, 500]", (BODY, "return 1 / (1 + np.exp(-np.clip(z, -500, 500)))")),
            ("float32 turned into float64", ("z = np.asarray(z)", "z = np.asarray(z, dtype=np.float64)")),
        ],
        "relu": [
            ("np.max(z, 0) reduces along axis 0", (BODY, "return np.max(z, 0)")),
            ("zeroes z in place", (BODY, "z[z < 0] = 0\nreturn z")),
            ("leaky slope 0.01", (BODY, "return np.where(z > 0, z, 0.01 * z)")),
            ("float32 turned into float64", (BODY, "return np.maximum(z, 0).astype(np.float64)")),
            ("clips at 1 too", (BODY, "return np.clip(z, 0, 1)")),
        ],
        "neuron_forward": [
            (
                "bias added after the activation",
                (
                    BODY,
                    """z = x @ w
if activation == "sigmoid":
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)) + b
if activation == "tanh":
    return np.tanh(z) + b
if activation == "relu":
    return np.maximum(z, 0) + b
if activation == "linear":
    return z + b
raise ValueError(activation)""",
                ),
            ),
            (
                "unknown activation silently linear",
                (
                    "raise ValueError(f\"activation must be 'sigmoid', 'tanh', 'relu' or 'linear', got {activation!r}\")",
                    "return z",
                ),
            ),
            (
                "naive sigmoid overflows",
                (
                    "e = np.exp(-np.abs(z))\n        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
                    "return 1 / (1 + np.exp(-z))",
                ),
            ),
            ("default activation relu", ('activation="sigmoid"):', 'activation="relu"):')),
        ],
        "dense_forward": [
            ("X @ W without the transpose", (BODY, "return X @ W + b")),
            ("forgets the bias", (BODY, "return X @ W.T")),
            ("bias as a column", (BODY, "return X @ W.T + b.reshape(-1, 1)")),
            (
                "float32 turned into float64",
                (BODY, "return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float).T + b"),
            ),
        ],
        "quiz_1": [("bias after the activation", ('answer = "b"', 'answer = "a"'))],
        "quiz_2": [("W as (fan_in, fan_out)", ('answer = "b"', 'answer = "a"'))],
    },
    "02_learning_rate": {
        "sgd_step": [
            ("updates w in place", (BODY, "w -= lr * grad\nreturn w")),
            ("steps up the gradient", (BODY, "return w + lr * grad")),
            ("ignores lr", (BODY, "return w - grad")),
            ("float32 turned into float64", (BODY, "return np.asarray(w, dtype=np.float64) - lr * grad")),
        ],
        "gradient_descent": [
            ("leaves out w0", ("path = [w]", "path = []")),
            ("updates the stored array in place", ("w = w - lr * grad_fn(w)", "w -= lr * grad_fn(w)")),
            (
                "changes the caller's w0",
                (
                    BODY,
                    "w = w0\npath = [w.copy()]\nfor _ in range(steps):\n    w -= lr * grad_fn(w)\n    path.append(w.copy())\nreturn np.stack(path)",
                ),
            ),
            ("one step too many", ("range(steps)", "range(steps + 1)")),
        ],
        "max_stable_lr": [
            ("1 / lambda_max", ("return 2.0 / eig[-1]", "return 1.0 / eig[-1]")),
            ("largest diagonal entry", (BODY, "H = np.asarray(hessian, dtype=float)\nreturn 2.0 / np.max(np.diag(H))")),
            (
                "no symmetry check",
                ('if not np.allclose(H, H.T):\n        raise ValueError("hessian must be symmetric")\n    ', ""),
            ),
            (
                "largest |eigenvalue|, no PSD check",
                (
                    BODY,
                    "H = np.asarray(hessian, dtype=float)\n"
                    "if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T):\n"
                    "    raise ValueError('not a symmetric matrix')\n"
                    "return 2.0 / np.abs(np.linalg.eigvalsh(H)).max()",
                ),
            ),
        ],
        "step_decay": [
            ("smooth epoch / every", (BODY, "return lr0 * drop ** (epoch / every)")),
            ("drops one epoch early", (BODY, "return lr0 * drop ** ((epoch + 1) // every)")),
            ("math.floor fails on arrays", (BODY, "return lr0 * drop ** math.floor(epoch / every)")),
        ],
        "cosine_decay": [
            (
                "not clamped after total_steps",
                ("t = np.minimum(step, total_steps) / total_steps", "t = step / total_steps"),
            ),
            (
                "forgets lr_min",
                (
                    "return lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * t)) / 2",
                    "return lr0 * (1 + np.cos(np.pi * t)) / 2",
                ),
            ),
            ("Python min fails on arrays", ("np.minimum(step, total_steps)", "min(step, total_steps)")),
            ("quarter cosine", ("(1 + np.cos(np.pi * t)) / 2", "np.cos(np.pi * t / 2)")),
        ],
        "quiz_1": [("slow convergence", ('answer = "c"', 'answer = "a"'))],
        "quiz_2": [("2 / lambda", ('answer = "b"', 'answer = "a"'))],
    },
    "03_initialization": {
        "fans": [
            (
                "fan_in and fan_out swapped",
                (
                    "return shape[1] * receptive, shape[0] * receptive",
                    "return shape[0] * receptive, shape[1] * receptive",
                ),
            ),
            (
                "ignores the receptive field",
                ("return shape[1] * receptive, shape[0] * receptive", "return shape[1], shape[0]"),
            ),
            (
                "fan_out without the kernel",
                ("return shape[1] * receptive, shape[0] * receptive", "return math.prod(shape[1:]), shape[0]"),
            ),
            (
                "no ValueError for 1-D",
                (
                    'if len(shape) < 2:\n        raise ValueError(f"fans need a shape with at least 2 dimensions, got {shape}")\n    ',
                    "",
                ),
            ),
        ],
        "calculate_gain": [
            ("relu gain 2 (a variance)", ("return math.sqrt(2.0)\n    if", "return 2.0\n    if")),
            ("param or 0.01", ("slope = 0.01 if param is None else param", "slope = param or 0.01")),
            (
                "default slope 0",
                ("slope = 0.01 if param is None else param", "slope = 0.0 if param is None else param"),
            ),
            ("tanh gain sqrt(5/3)", ("return 5.0 / 3", "return math.sqrt(5.0 / 3)")),
            ("unknown names get 1", ('raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")', "return 1.0")),
        ],
        "xavier_uniform": [
            ("fan_in only", ("a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = gain * math.sqrt(6.0 / fan_in)")),
            (
                "std used as the bound",
                ("a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = gain * math.sqrt(2.0 / (fan_in + fan_out))"),
            ),
            (
                "ignores gain",
                ("a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = math.sqrt(6.0 / (fan_in + fan_out))"),
            ),
            ("ignores the receptive field", ("receptive = math.prod(shape[2:])", "receptive = 1")),
            (
                "normal instead of uniform",
                ("return rng.uniform(-a, a, size=shape)", "return rng.normal(0.0, a, size=shape)"),
            ),
            ("rng=None unsupported", (_RNG_NONE, "")),
        ],
        "xavier_normal": [
            (
                "variance used as std",
                ("std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = gain * 2.0 / (fan_in + fan_out)"),
            ),
            (
                "uniform bound used as std",
                (
                    "std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
                    "std = gain * math.sqrt(6.0 / (fan_in + fan_out))",
                ),
            ),
            (
                "fan_in only",
                ("std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = gain * math.sqrt(2.0 / fan_in)"),
            ),
            (
                "ignores gain",
                ("std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = math.sqrt(2.0 / (fan_in + fan_out))"),
            ),
            (
                "uniform with the std as bound",
                ("return rng.normal(0.0, std, size=shape)", "return rng.uniform(-std, std, size=shape)"),
            ),
        ],
        "kaiming_uniform": [
            ("He with fan_out", (_FAN, 'fan = shape[0] * receptive if mode == "fan_in" else shape[1] * receptive')),
            ("ignores the slope a", (_GAIN_A, "gain = math.sqrt(2.0)")),
            ("bound without sqrt(3)", ("bound = gain * math.sqrt(3.0 / fan)", "bound = gain / math.sqrt(fan)")),
            ("ignores the receptive field", ("receptive = math.prod(shape[2:])", "receptive = 1")),
            ("mode not checked", (_MODE_CHECK, "")),
            (
                "normal instead of uniform",
                ("return rng.uniform(-bound, bound, size=shape)", "return rng.normal(0.0, bound, size=shape)"),
            ),
        ],
        "kaiming_normal": [
            ("He with fan_out", (_FAN, 'fan = shape[0] * receptive if mode == "fan_in" else shape[1] * receptive')),
            ("variance used as std", ("gain / math.sqrt(fan)", "gain**2 / fan")),
            ("uniform bound used as std", ("gain / math.sqrt(fan)", "gain * math.sqrt(3.0 / fan)")),
            ("ignores the slope a", (_GAIN_A, "gain = math.sqrt(2.0)")),
            ("ReLU gain for every nonlinearity", (_GAIN_OTHER, "gain = math.sqrt(2.0)")),
            ("mode not checked", (_MODE_CHECK, "")),
        ],
        "quiz_1": [("exploding gradients", ('answer = "b"', 'answer = "a"'))],
        "quiz_2": [("fan_out", ('answer = "b"', 'answer = "d"'))],
    },
    "04_loss": {
        "mse": [
            ("sum for mean", ("return loss.mean()", "return loss.sum()")),
            ("mean over rows only", ("return loss.mean()", "return loss.sum() / len(pred)")),
            ("absolute error", ("loss = (pred - target) ** 2", "loss = np.abs(pred - target)")),
            (
                "no shape check",
                (
                    'if pred.shape != target.shape:\n        raise ValueError(f"pred and target must have the same shape, got {pred.shape} and {target.shape}")\n    ',
                    "",
                ),
            ),
            ("unknown reduction means mean", (_RED, "return loss.mean()")),
        ],
        "binary_cross_entropy": [
            ("no clamp", (_BCE_LOGS, "log_p = np.log(p)\n    log_1mp = np.log(1 - p)")),
            (
                "clips p at 1e-7",
                (_BCE_LOGS, "p = np.clip(p, 1e-7, 1 - 1e-7)\n    log_p = np.log(p)\n    log_1mp = np.log(1 - p)"),
            ),
            (
                "clamps but log(0) warns",
                (_BCE_LOGS, "log_p = np.maximum(np.log(p), -100)\n    log_1mp = np.maximum(np.log(1 - p), -100)"),
            ),
            ("forgets the (1 - y) term", ("loss = -(y * log_p + (1 - y) * log_1mp)", "loss = -(y * log_p)")),
            (
                "no range check",
                (
                    'if np.any((p < 0) | (p > 1)):\n        raise ValueError("p must hold probabilities in [0, 1]")\n    ',
                    "",
                ),
            ),
            ("sum for mean", ("return loss.mean()", "return loss.sum()")),
        ],
        "bce_with_logits": [
            (
                "sigmoid then log",
                (
                    "z = logits\n    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
                    "p = 1 / (1 + np.exp(-logits))\n    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))",
                ),
            ),
            (
                "naive softplus overflows",
                (
                    "loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
                    "loss = (1 - y) * z + np.log1p(np.exp(-z))",
                ),
            ),
            ("sign error", ("- z * y", "+ z * y")),
            ("sum for mean", ("return loss.mean()", "return loss.sum()")),
        ],
        "softmax": [
            ("no max shift", ("e = np.exp(z - z.max(axis=axis, keepdims=True))", "e = np.exp(z)")),
            ("global max", ("e = np.exp(z - z.max(axis=axis, keepdims=True))", "e = np.exp(z - z.max())")),
            ("sum without keepdims", ("return e / e.sum(axis=axis, keepdims=True)", "return e / e.sum(axis=axis)")),
            (
                "ignores axis",
                ("z.max(axis=axis, keepdims=True)", "z.max(axis=-1, keepdims=True)"),
                ("e.sum(axis=axis, keepdims=True)", "e.sum(axis=-1, keepdims=True)"),
            ),
        ],
        "log_softmax": [
            (
                "log of softmax",
                (
                    BODY,
                    "e = np.exp(z - z.max(axis=axis, keepdims=True))\nreturn np.log(e / e.sum(axis=axis, keepdims=True))",
                ),
            ),
            ("no max shift", (BODY, "return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))")),
            ("global max", ("shifted = z - z.max(axis=axis, keepdims=True)", "shifted = z - z.max()")),
            (
                "sum without keepdims",
                ("np.exp(shifted).sum(axis=axis, keepdims=True)", "np.exp(shifted).sum(axis=axis)"),
            ),
        ],
        "cross_entropy": [
            (
                "log of softmax",
                (
                    "shifted = logits - logits.max(axis=1, keepdims=True)\n    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
                    "e = np.exp(logits - logits.max(axis=1, keepdims=True))\n    logp = np.log(e / e.sum(axis=1, keepdims=True))",
                ),
            ),
            ("logp[:, target]", ("loss = -logp[np.arange(len(target)), target]", "loss = -logp[:, target]")),
            (
                "mean over N * C",
                ("loss = -logp[np.arange(len(target)), target]", "loss = -(np.eye(logits.shape[1])[target] * logp)"),
            ),
            ("no max shift", ("shifted = logits - logits.max(axis=1, keepdims=True)", "shifted = logits")),
        ],
        "quiz_1": [("[1/3, 1/3, 1/3]", ('answer = "b"', 'answer = "a"'))],
        "quiz_2": [("N * C", ('answer = "c"', 'answer = "a"'))],
    },
    "05_chain_rule": {
        "Value": [
            (
                "= instead of += in __add__",
                (
                    "self.grad += out.grad\n            other.grad += out.grad",
                    "self.grad = out.grad\n            other.grad = out.grad",
                ),
            ),
            (
                "= instead of += in __mul__",
                (
                    "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
                    "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
                ),
            ),
            (
                "no topological order",
                (
                    _TOPO,
                    "self.grad = 1.0\n        stack = [self]\n        while stack:\n            node = stack.pop()\n            node._backward()\n            stack.extend(node._prev)",
                ),
            ),
            ("relu passes gradient at 0", ("(self.data > 0) * out.grad", "(self.data >= 0) * out.grad")),
            (
                "tanh derivative 1 - a**2",
                ("self.grad += (1 - t * t) * out.grad", "self.grad += (1 - self.data**2) * out.grad"),
            ),
            (
                "pow derivative k a**k",
                ("self.grad += k * self.data ** (k - 1) * out.grad", "self.grad += k * self.data**k * out.grad"),
            ),
            ("exp derivative a", ("self.grad += e * out.grad", "self.grad += self.data * out.grad")),
            ("__rsub__ as self - other", ("return Value(other) - self", "return self - other")),
            ("__rtruediv__ as self / other", ("return Value(other) / self", "return self / other")),
            (
                "backward does not seed grad = 1",
                ("self.grad = 1.0\n        for node in reversed(order):", "for node in reversed(order):"),
            ),
        ],
        "linear_backward": [
            ("missing transpose in dW", (BODY, "return dout @ W, X.T @ dout, dout.sum(axis=0)")),
            ("dX with W.T", (BODY, "return dout @ W.T, dout.T @ X, dout.sum(axis=0)")),
            ("db averaged", (BODY, "return dout @ W, dout.T @ X, dout.mean(axis=0)")),
            ("db summed over the wrong axis", (BODY, "return dout @ W, dout.T @ X, dout.sum(axis=1)")),
        ],
        "relu_backward": [
            ("passes gradient at z == 0", ("np.where(z > 0", "np.where(z >= 0")),
            ("mask from dout", ("np.where(z > 0", "np.where(dout > 0")),
            ("forgets dout", (BODY, "return (z > 0).astype(z.dtype)")),
            ("zeroes dout in place", (BODY, "dout[z <= 0] = 0\nreturn dout")),
            ("float32 turned into float64", (BODY, "return np.where(z > 0, dout, 0.0).astype(np.float64)")),
        ],
        "sigmoid_backward": [
            ("naive sigmoid overflows", (_SIG2, "s = 1 / (1 + np.exp(-z))")),
            ("uses z as the sigmoid output", ("return dout * s * (1 - s)", "return dout * z * (1 - z)")),
            ("forgets dout", ("return dout * s * (1 - s)", "return s * (1 - s)")),
        ],
        "numerical_gradient": [
            (
                "one-sided difference",
                (
                    BODY,
                    "x = np.array(x, dtype=np.float64)\ngrad = np.zeros_like(x)\nf0 = f(x)\n"
                    "for i in np.ndindex(x.shape):\n    old = x[i]\n    x[i] = old + h\n    grad[i] = (f(x) - f0) / h\n    x[i] = old\n"
                    "return grad",
                ),
            ),
            ("divides by h, not 2h", ("(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")),
            (
                "ignores the h argument",
                ("x[i] = old + h", "x[i] = old + 1e-5"),
                ("x[i] = old - h", "x[i] = old - 1e-5"),
                ("/ (2 * h)", "/ (2 * 1e-5)"),
            ),
            (
                "perturbs the caller's x with += and -=",
                (
                    BODY,
                    "grad = np.zeros_like(x)\nfor i in np.ndindex(x.shape):\n    x[i] += h\n    f_plus = f(x)\n    x[i] -= 2 * h\n"
                    "    f_minus = f(x)\n    x[i] += h\n    grad[i] = (f_plus - f_minus) / (2 * h)\nreturn grad",
                ),
            ),
            ("loops over rows only", ("for i in np.ndindex(x.shape):", "for i in range(len(x)):")),
        ],
        "two_layer_grads": [
            ("forgets the 1/N of the mean", ("dscores /= n\n    ", "")),
            ("no ReLU mask", ("dz1 = np.where(z1 > 0, dh, 0.0)", "dz1 = dh")),
            ("dW2 transposed", ('"W2": dscores.T @ h', '"W2": h.T @ dscores')),
            ("summed loss", ("loss = -logp[np.arange(n), y].mean()", "loss = -logp[np.arange(n), y].sum()")),
            ("softmax gradient without the one-hot", ("dscores[np.arange(n), y] -= 1\n    ", "")),
        ],
        "quiz_1": [("overwritten gradient", ('answer = "b"', 'answer = "a"'))],
        "quiz_2": [("X.T @ dout", ('answer = "b"', 'answer = "a"'))],
    },
}


def notebook(folder, assignment):
    """The committed notebook ``folder/<id>/<id>.ipynb`` (folder: solutions or exercises)."""
    return nbformat.read(ROOT / folder / assignment / f"{assignment}.ipynb", as_version=4)


def grade_id(cell):
    """The cell's nbgrader grade_id, or None."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solution_sources(assignment):
    """``{grade_id: source}`` of the solution cells of the source notebook (markers included)."""
    cells = notebook("solutions", assignment).cells
    return {grade_id(c): c.source for c in cells if c.metadata.get("nbgrader", {}).get("solution")}


def _replace_body(source, new):
    lines = source.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == MARKERS[0]]
    ends = [i for i, line in enumerate(lines) if line.strip() == MARKERS[1]]
    if len(starts) != 1 or len(ends) != 1:
        raise ValueError("BODY needs exactly one solution region")
    indent = lines[starts[0]][: len(lines[starts[0]]) - len(lines[starts[0]].lstrip())]
    body = textwrap.indent(new, indent).split("\n")
    return "\n".join(lines[: starts[0] + 1] + body + lines[ends[0] :])


def mutate(source, mutant):
    """Apply a mutant's replacements to a solution cell's source; each ``old`` must occur exactly once."""
    for old, new in mutant[1:]:
        if old is BODY:
            source = _replace_body(source, new)
            continue
        if source.count(old) != 1:
            raise ValueError(f"mutant {mutant[0]!r}: {old!r} occurs {source.count(old)} times, not once")
        source = source.replace(old, new)
    return source


def strip_markers(source):
    """A solution cell as a learner would write it: without the nbgrader markers."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in MARKERS)


def answers(assignment, function=None, index=None):
    """``{grade_id: source}`` of every answer cell, correct except ``function`` (mutant ``index``)."""
    sources = solution_sources(assignment)
    if function is not None:
        sources[function] = mutate(sources[function], MUTANTS[assignment][function][index])
    return {gid: strip_markers(src) for gid, src in sources.items()}


def build_submission(assignment, function=None, index=None):
    """A learner's submission: the released notebook with every answer cell filled in.

    All answers are the correct ones from ``solutions/`` except ``function``,
    which gets mutant ``index`` of the bank. Test cells stay as released.
    """
    nb = copy.deepcopy(notebook("exercises", assignment))
    filled = answers(assignment, function, index)
    for cell in nb.cells:
        if grade_id(cell) in filled:
            cell.source = filled[grade_id(cell)]
    return nb


def failing_tests(assignment, function=None, index=None):
    """Run the source notebook in-process with mutant ``index`` of ``function`` swapped in.

    Every code cell runs in order in one namespace (as in a kernel) with
    warnings as errors (nbgrader scores a test cell with stderr output 0).
    Returns ``{grade_id: message}`` of the graded test cells that raised.
    """
    filled = answers(assignment, function, index)
    ns = {"__name__": "__main__"}
    failed = {}
    for cell in notebook("solutions", assignment).cells:
        if cell.cell_type != "code":
            continue
        gid = grade_id(cell)
        source = filled.get(gid, cell.source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                exec(compile(source, f"<{assignment}:{gid}>", "exec"), ns)
        except Exception as e:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                failed[gid] = f"{type(e).__name__}: {e}"[:300]
    return failed


def all_mutants():
    """Every ``(assignment, grade_id, index, label)`` of the bank."""
    return [(a, fn, i, m[0]) for a, fns in MUTANTS.items() for fn, ms in fns.items() for i, m in enumerate(ms)]


def score(verbose=True):
    """Run the whole bank in-process; return ``(caught, total)``.

    A mutant counts as caught when its own test cell fails and no other does.
    """
    caught = total = 0
    for assignment, function, index, label in all_mutants():
        failed = failing_tests(assignment, function, index)
        ok = set(failed) == {f"test_{function}"}
        caught += ok
        total += 1
        if verbose:
            print(f"{'caught ' if ok else 'MISSED '} {assignment} {function} [{label}]: {sorted(failed)}")
    return caught, total


if __name__ == "__main__":
    caught, total = score()
    print(f"mutation score: {caught}/{total} wrong implementations caught by their own test cell and only there")
    sys.exit(0 if caught == total else 1)
