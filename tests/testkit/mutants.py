"""The mutation bank: plausible wrong answers to every graded function, and tools to run them.

``MUTANTS[assignment][grade_id]`` is a list of mutants; a mutant is
``(label, (old, new), ...)``: each ``old`` text of the solution cell (in
``solutions/``) is replaced by ``new``; ``old = BODY`` replaces the whole
``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region and ``old = APPEND``
adds ``new`` at the end of the cell. Every mutant must lose points on its own
test cell (``test_<grade_id>``) and nowhere else: a wrong ``sigmoid`` must not
cost ``neuron_forward`` anything, since its tests bind stand-ins (``given=``).

A label reads ``"<class>: <what the learner did>"``; the classes are in
``CLASSES``. Besides the hand-written mutants, ``GENERIC`` adds, for the
functions listed, wrong answers made by wrapping the right one (its floats
turned into NaN or inf, its array inputs changed in place, its dtype changed).

Usable outside pytest (``from testkit import mutants``)::

    build_submission("01_neuron", "sigmoid", 0)   # nbformat notebook: released cells, answers filled in
    failing_tests("01_neuron", "sigmoid", 0)      # {grade_id: message} of the test cells that fail
    python tests/testkit/mutants.py               # runs the whole bank and prints the mutation score
"""

import copy
import functools
import sys
import textwrap
import warnings
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
BODY = None  # as ``old``: the whole solution region
APPEND = ""  # as ``old``: add ``new`` after the cell's source
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

CLASSES = {
    "value": "a wrong formula or convention",
    "nan": "NaN in the result where the answer is finite",
    "inf": "inf in the result where the answer is finite",
    "dtype": "the wrong dtype (float32 not kept, float32 where float64 is due, floats for ints)",
    "inplace": "changes an input array in place",
    "reduction": "a wrong reduction or an off-by-one count",
    "axis": "the wrong axis",
    "rng": "randomness not (only) from the rng argument",
    "dist": "the wrong distribution family",
    "raise": "does not raise ValueError where it must",
    "stability": "overflows or warns for large inputs",
    "syntax": "a SyntaxError in the cell",
    "quiz": "a wrong answer to a quiz: the misconception it stands for",
}

_RED = "raise ValueError(f\"reduction must be 'mean', 'sum' or 'none', got {reduction!r}\")"
_SIG2 = "e = np.exp(-np.abs(z))\n    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))"
_BCE_LOGS = (
    'with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below\n'
    "        log_p = np.maximum(np.log(p), -100)\n"
    "        log_1mp = np.maximum(np.log(1 - p), -100)"
)
_FANS = "fan_in, fan_out = fans(shape)"
_FAN = 'fan = fan_in if mode == "fan_in" else fan_out'
_GAIN = "gain = calculate_gain(nonlinearity, a)"
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
# Keras' glorot_normal / he_normal: a normal truncated at 2 std, its scale raised so that the std is right
_TRUNCATED = """s = {std} / 0.87962566103423978
    x = rng.normal(0.0, s, size=shape)
    bad = np.abs(x) > 2 * s
    while bad.any():
        x[bad] = rng.normal(0.0, s, size=int(bad.sum()))
        bad = np.abs(x) > 2 * s
    return x"""


def _rng_mutants(draw):
    """The ways of not drawing from ``rng``, for an initialiser whose solution ends with ``return rng.<draw>``."""
    return [
        (
            "rng: ignores rng (a fresh generator each call)",
            (f"return rng.{draw}", f"return np.random.default_rng().{draw}"),
        ),
        ("rng: NumPy's global random functions", (f"return rng.{draw}", f"return np.random.{draw}")),
        ("rng: a fixed seed inside", (f"return rng.{draw}", f"return np.random.default_rng(0).{draw}")),
        ("rng: rng=None gives a fixed seed", ("rng = np.random.default_rng()", "rng = np.random.default_rng(0)")),
    ]


def _syntax(signature):
    return ("syntax: a missing colon after def", (f"def {signature}:", f"def {signature}"))


def _quiz(right, **wrong):
    """Mutants of a quiz answer cell: each wrong letter, labelled by the misconception it stands for."""
    return [(f"quiz: {why}", (f'\nanswer = "{right}"\n', f'\nanswer = "{letter}"\n')) for letter, why in wrong.items()]


MUTANTS = {
    "01_neuron": {
        "weighted_sum": [
            ("reduction: np.sum(x * w) sums the whole batch", ("return x @ w + b", "return np.sum(x * w) + b")),
            ("value: w @ x instead of x @ w", ("return x @ w + b", "return np.dot(w, x) + b")),
            ("value: bias added to every feature", ("return x @ w + b", "return (x + b) @ w")),
            (
                "dtype: float32 turned into float64",
                ("return x @ w + b", "return np.asarray(x, dtype=float) @ np.asarray(w, dtype=float) + b"),
            ),
            ("axis: sums over the batch axis", ("return x @ w + b", "return np.sum(x * w, axis=0) + b")),
            ("inplace: multiplies x by w in place", ("return x @ w + b", "x *= w\n    return x.sum(axis=-1) + b")),
            _syntax("weighted_sum(x, w, b)"),
        ],
        "sigmoid": [
            ("stability: naive 1 / (1 + exp(-z)) overflows", (BODY, "return 1 / (1 + np.exp(-z))")),
            (
                "stability: np.where with an overflowing branch",
                (BODY, "return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))"),
            ),
            ("value: clips z to [-500, 500]", (BODY, "return 1 / (1 + np.exp(-np.clip(z, -500, 500)))")),
            ("dtype: float32 turned into float64", ("z = np.asarray(z)", "z = np.asarray(z, dtype=np.float64)")),
            (
                "nan: silences the overflow of exp(z) / (1 + exp(z))",
                (BODY, 'with np.errstate(all="ignore"):\n    return np.exp(z) / (1 + np.exp(z))'),
            ),
            (
                "value: the branches swapped (sigmoid of -z)",
                ("np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "np.where(z >= 0, e / (1 + e), 1 / (1 + e))"),
            ),
            _syntax("sigmoid(z)"),
        ],
        "relu": [
            ("reduction: np.max(z, 0) reduces along axis 0", (BODY, "return np.max(z, 0)")),
            ("inplace: zeroes z in place", (BODY, "z[z < 0] = 0\nreturn z")),
            ("value: leaky slope 0.01", (BODY, "return np.where(z > 0, z, 0.01 * z)")),
            ("dtype: float32 turned into float64", (BODY, "return np.maximum(z, 0).astype(np.float64)")),
            ("value: clips at 1 too", (BODY, "return np.clip(z, 0, 1)")),
            _syntax("relu(z)"),
        ],
        "neuron_forward": [
            (
                "value: bias added after the activation",
                ("z = weighted_sum(x, w, b)", "z = weighted_sum(x, w, 0.0)"),
                ("return sigmoid(z)", "return sigmoid(z) + b"),
                ("return np.tanh(z)", "return np.tanh(z) + b"),
                ("return relu(z)", "return relu(z) + b"),
                ("return z\n", "return z + b\n"),
            ),
            (
                "raise: unknown activation silently linear",
                (
                    "raise ValueError(f\"activation must be 'sigmoid', 'tanh', 'relu' or 'linear', got {activation!r}\")",
                    "return z",
                ),
            ),
            ("stability: an inline naive sigmoid overflows", ("return sigmoid(z)", "return 1 / (1 + np.exp(-z))")),
            ("value: default activation relu", ('activation="sigmoid"):', 'activation="relu"):')),
            ("value: tanh as 2 sigmoid(z) - 1", ("return np.tanh(z)", "return 2 * sigmoid(z) - 1")),
            (
                "dtype: float32 turned into float64",
                ("z = weighted_sum(x, w, b)", "z = weighted_sum(np.asarray(x, dtype=float), w, b)"),
            ),
            ("reduction: np.sum(x * w) sums the whole batch", ("z = weighted_sum(x, w, b)", "z = np.sum(x * w) + b")),
        ],
        "dense_forward": [
            ("value: X @ W without the transpose", (BODY, "return X @ W + b")),
            ("value: forgets the bias", (BODY, "return X @ W.T")),
            ("axis: bias as a column", (BODY, "return X @ W.T + b.reshape(-1, 1)")),
            (
                "dtype: float32 turned into float64",
                (BODY, "return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float).T + b"),
            ),
            ("value: W @ X.T, the output transposed", (BODY, "return W @ X.T + b")),
        ],
        "quiz_1": _quiz(
            "d", a="forgets that sigmoid(0) is 0.5", b="bias after the activation", c="activation on each input"
        ),
        "quiz_2": _quiz("b", a="W as (fan_in, fan_out), as for x @ W", c="the bias's shape", d="one weight per input"),
        "quiz_3": _quiz("c", a="np.max(z, 0) taken for ReLU", b="the global maximum", d="the maximum along axis 1"),
        "quiz_4": _quiz("a", b="the sign of z confused", c="1 + inf taken as 0", d="inf / inf"),
    },
    "02_learning_rate": {
        "sgd_step": [
            ("inplace: updates w in place", (BODY, "w -= lr * grad\nreturn w")),
            ("value: steps up the gradient", (BODY, "return w + lr * grad")),
            ("value: ignores lr", (BODY, "return w - grad")),
            ("dtype: float32 turned into float64", (BODY, "return np.asarray(w, dtype=np.float64) - lr * grad")),
            _syntax("sgd_step(w, grad, lr)"),
        ],
        "gradient_descent": [
            ("reduction: leaves out w0", ("path = [w]", "path = []")),
            ("inplace: updates the stored array in place", ("w = sgd_step(w, grad_fn(w), lr)", "w -= lr * grad_fn(w)")),
            (
                "inplace: changes the caller's w0",
                (
                    BODY,
                    "w = w0\npath = [w.copy()]\nfor _ in range(steps):\n    w -= lr * grad_fn(w)\n    path.append(w.copy())\nreturn np.stack(path)",
                ),
            ),
            ("reduction: one step too many", ("range(steps)", "range(steps + 1)")),
            ("dtype: float32 turned into float64", ("w = np.array(w0)", "w = np.array(w0, dtype=float)")),
            ("value: returns the last iterate only", ("return np.stack(path)", "return path[-1]")),
            ("value: returns a list, not an array", ("return np.stack(path)", "return path")),
        ],
        "max_stable_lr": [
            ("value: 1 / lambda_max", ("return 2.0 / eig[-1]", "return 1.0 / eig[-1]")),
            (
                "value: largest diagonal entry",
                (BODY, "H = np.asarray(hessian, dtype=float)\nreturn 2.0 / np.max(np.diag(H))"),
            ),
            (
                "raise: no symmetry check",
                ('if not np.allclose(H, H.T):\n        raise ValueError("hessian must be symmetric")\n    ', ""),
            ),
            (
                "raise: largest |eigenvalue|, no PSD check",
                (
                    BODY,
                    "H = np.asarray(hessian, dtype=float)\n"
                    "if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T):\n"
                    "    raise ValueError('not a symmetric matrix')\n"
                    "return 2.0 / np.abs(np.linalg.eigvalsh(H)).max()",
                ),
            ),
            (
                "reduction: the first eigenvalue (eigvalsh sorts ascending)",
                ("return 2.0 / eig[-1]", "return 2.0 / eig[0]"),
            ),
            (
                "raise: a PSD check without a round-off tolerance",
                ("if eig[0] < -1e-10 * max(1.0, np.abs(eig).max()):", "if eig[0] < 0:"),
            ),
        ],
        "step_decay": [
            ("value: smooth epoch / every", (BODY, "return lr0 * drop ** (epoch / every)")),
            ("reduction: drops one epoch early", (BODY, "return lr0 * drop ** ((epoch + 1) // every)")),
            ("value: math.floor fails on arrays", (BODY, "return lr0 * drop ** math.floor(epoch / every)")),
            ("value: operator precedence, (lr0 * drop**epoch) // every", (BODY, "return lr0 * drop**epoch // every")),
        ],
        "cosine_decay": [
            (
                "value: not clamped after total_steps",
                ("t = np.minimum(step, total_steps) / total_steps", "t = step / total_steps"),
            ),
            (
                "value: forgets lr_min",
                (
                    "return lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * t)) / 2",
                    "return lr0 * (1 + np.cos(np.pi * t)) / 2",
                ),
            ),
            ("value: Python min fails on arrays", ("np.minimum(step, total_steps)", "min(step, total_steps)")),
            ("value: quarter cosine", ("(1 + np.cos(np.pi * t)) / 2", "np.cos(np.pi * t / 2)")),
            ("reduction: total_steps - 1 as the period", ("/ total_steps", "/ (total_steps - 1)")),
            ("value: linear decay", ("(1 + np.cos(np.pi * t)) / 2", "(1 - t)")),
        ],
        "quiz_1": _quiz(
            "c",
            a="a small learning rate always converges",
            b="the one-step rate confused",
            d="oscillation taken for convergence",
        ),
        "quiz_2": _quiz("b", a="the stability limit taken for the best rate", c="lambda itself", d="the 1/2 of f"),
        "quiz_3": _quiz("a", b="epoch / every, a smooth decay", c="one drop too many", d="a single drop"),
        "quiz_4": _quiz("d", a="the largest diagonal entry", b="the smallest eigenvalue", c="1 / lambda_max"),
    },
    "03_initialization": {
        "fans": [
            (
                "value: fan_in and fan_out swapped",
                (
                    "return shape[1] * receptive, shape[0] * receptive",
                    "return shape[0] * receptive, shape[1] * receptive",
                ),
            ),
            (
                "value: ignores the receptive field",
                ("return shape[1] * receptive, shape[0] * receptive", "return shape[1], shape[0]"),
            ),
            (
                "value: fan_out without the kernel",
                ("return shape[1] * receptive, shape[0] * receptive", "return math.prod(shape[1:]), shape[0]"),
            ),
            (
                "raise: no ValueError for 1-D",
                (
                    'if len(shape) < 2:\n        raise ValueError(f"fans need a shape with at least 2 dimensions, got {shape}")\n    ',
                    "",
                ),
            ),
            ("dtype: np.prod gives floats (1.0 for a linear shape)", ("math.prod(shape[2:])", "np.prod(shape[2:])")),
            ("reduction: the receptive field from shape[1:]", ("math.prod(shape[2:])", "math.prod(shape[1:])")),
            _syntax("fans(shape)"),
        ],
        "calculate_gain": [
            ("value: relu gain 2 (a variance)", ("return math.sqrt(2.0)\n    if", "return 2.0\n    if")),
            ("value: param or 0.01", ("slope = 0.01 if param is None else param", "slope = param or 0.01")),
            (
                "value: default slope 0",
                ("slope = 0.01 if param is None else param", "slope = 0.0 if param is None else param"),
            ),
            ("value: tanh gain sqrt(5/3)", ("return 5.0 / 3", "return math.sqrt(5.0 / 3)")),
            (
                "raise: unknown names get 1",
                ('raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")', "return 1.0"),
            ),
            _syntax("calculate_gain(nonlinearity, param=None)"),
        ],
        "xavier_uniform": [
            (
                "value: fan_in only",
                ("a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = gain * math.sqrt(6.0 / fan_in)"),
            ),
            (
                "value: std used as the bound",
                ("a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = gain * math.sqrt(2.0 / (fan_in + fan_out))"),
            ),
            (
                "value: ignores gain",
                ("a = gain * math.sqrt(6.0 / (fan_in + fan_out))", "a = math.sqrt(6.0 / (fan_in + fan_out))"),
            ),
            ("value: ignores the receptive field", (_FANS, "fan_in, fan_out = shape[1], shape[0]")),
            (
                "dist: normal with the bound as std",
                ("return rng.uniform(-a, a, size=shape)", "return rng.normal(0.0, a, size=shape)"),
            ),
            (
                "dist: normal with the right std",
                ("return rng.uniform(-a, a, size=shape)", "return rng.normal(0.0, a / math.sqrt(3), size=shape)"),
            ),
            ("raise: rng=None unsupported", (_RNG_NONE, "")),
            *_rng_mutants("uniform(-a, a, size=shape)"),
            (
                "dtype: float32 (PyTorch's default dtype)",
                ("return rng.uniform(-a, a, size=shape)", "return rng.uniform(-a, a, size=shape).astype(np.float32)"),
            ),
        ],
        "xavier_normal": [
            (
                "value: variance used as std",
                ("std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = gain * 2.0 / (fan_in + fan_out)"),
            ),
            (
                "value: uniform bound used as std",
                (
                    "std = gain * math.sqrt(2.0 / (fan_in + fan_out))",
                    "std = gain * math.sqrt(6.0 / (fan_in + fan_out))",
                ),
            ),
            (
                "value: fan_in only",
                ("std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = gain * math.sqrt(2.0 / fan_in)"),
            ),
            (
                "value: ignores gain",
                ("std = gain * math.sqrt(2.0 / (fan_in + fan_out))", "std = math.sqrt(2.0 / (fan_in + fan_out))"),
            ),
            (
                "dist: uniform with the std as bound",
                ("return rng.normal(0.0, std, size=shape)", "return rng.uniform(-std, std, size=shape)"),
            ),
            (
                "dist: uniform with the right std",
                (
                    "return rng.normal(0.0, std, size=shape)",
                    "return rng.uniform(-std * math.sqrt(3), std * math.sqrt(3), size=shape)",
                ),
            ),
            (
                "dist: Keras' truncated normal (cut at 2 std, std corrected)",
                ("return rng.normal(0.0, std, size=shape)", _TRUNCATED.format(std="std")),
            ),
            ("value: ignores the receptive field", (_FANS, "fan_in, fan_out = shape[1], shape[0]")),
            *_rng_mutants("normal(0.0, std, size=shape)"),
            (
                "dtype: float32 (PyTorch's default dtype)",
                (
                    "return rng.normal(0.0, std, size=shape)",
                    "return rng.normal(0.0, std, size=shape).astype(np.float32)",
                ),
            ),
        ],
        "kaiming_uniform": [
            ("value: He with fan_out", (_FAN, 'fan = fan_out if mode == "fan_in" else fan_in')),
            ("value: ignores the slope a", (_GAIN, "gain = math.sqrt(2.0)")),
            ("value: forgets to pass a to calculate_gain", (_GAIN, "gain = calculate_gain(nonlinearity)")),
            ("value: bound without sqrt(3)", ("bound = gain * math.sqrt(3.0 / fan)", "bound = gain / math.sqrt(fan)")),
            ("value: ignores the receptive field", (_FANS, "fan_in, fan_out = shape[1], shape[0]")),
            ("raise: mode not checked", (_MODE_CHECK, "")),
            (
                "dist: normal with the bound as std",
                ("return rng.uniform(-bound, bound, size=shape)", "return rng.normal(0.0, bound, size=shape)"),
            ),
            (
                "dist: normal with the right std",
                (
                    "return rng.uniform(-bound, bound, size=shape)",
                    "return rng.normal(0.0, bound / math.sqrt(3), size=shape)",
                ),
            ),
            *_rng_mutants("uniform(-bound, bound, size=shape)"),
            (
                "dtype: float32 (PyTorch's default dtype)",
                (
                    "return rng.uniform(-bound, bound, size=shape)",
                    "return rng.uniform(-bound, bound, size=shape).astype(np.float32)",
                ),
            ),
        ],
        "kaiming_normal": [
            ("value: He with fan_out", (_FAN, 'fan = fan_out if mode == "fan_in" else fan_in')),
            ("value: variance used as std", ("gain / math.sqrt(fan)", "gain**2 / fan")),
            ("value: uniform bound used as std", ("gain / math.sqrt(fan)", "gain * math.sqrt(3.0 / fan)")),
            ("value: forgets to pass a to calculate_gain", (_GAIN, "gain = calculate_gain(nonlinearity)")),
            ("value: ReLU gain for every nonlinearity", (_GAIN, "gain = math.sqrt(2.0)")),
            ("raise: mode not checked", (_MODE_CHECK, "")),
            ("value: ignores the receptive field", (_FANS, "fan_in, fan_out = shape[1], shape[0]")),
            (
                "dist: uniform with the right std",
                (
                    "return rng.normal(0.0, gain / math.sqrt(fan), size=shape)",
                    "return rng.uniform(-gain * math.sqrt(3 / fan), gain * math.sqrt(3 / fan), size=shape)",
                ),
            ),
            (
                "dist: Keras' truncated normal (cut at 2 std, std corrected)",
                (
                    "return rng.normal(0.0, gain / math.sqrt(fan), size=shape)",
                    _TRUNCATED.format(std="gain / math.sqrt(fan)"),
                ),
            ),
            *_rng_mutants("normal(0.0, gain / math.sqrt(fan), size=shape)"),
            (
                "dtype: float32 (PyTorch's default dtype)",
                (
                    "return rng.normal(0.0, gain / math.sqrt(fan), size=shape)",
                    "return rng.normal(0.0, gain / math.sqrt(fan), size=shape).astype(np.float32)",
                ),
            ),
        ],
        "quiz_1": _quiz(
            "b", a="training breaks the symmetry by itself", c="exploding gradients", d="the loss undefined at 0"
        ),
        "quiz_2": _quiz("c", a="the kernel size forgotten", b="out_channels", d="fan_out"),
        "quiz_3": _quiz("a", b="the variance as std", c="a uniform with the std as bound", d="He's fan_in-only std"),
        "quiz_4": _quiz("d", a="the same seed, the same numbers", b="only rng=None is random", c="only gain matters"),
    },
    "04_loss": {
        "mse": [
            ("reduction: sum for mean", ("return loss.mean()", "return loss.sum()")),
            ("reduction: mean over rows only", ("return loss.mean()", "return loss.sum() / len(pred)")),
            ("value: absolute error", ("loss = (pred - target) ** 2", "loss = np.abs(pred - target)")),
            (
                "raise: no shape check",
                (
                    'if pred.shape != target.shape:\n        raise ValueError(f"pred and target must have the same shape, got {pred.shape} and {target.shape}")\n    ',
                    "",
                ),
            ),
            ("raise: unknown reduction means mean", (_RED, "return loss.mean()")),
            (
                "inplace: subtracts target from pred in place",
                ("loss = (pred - target) ** 2", "pred -= target\n    loss = pred**2"),
            ),
            ("axis: the mean over axis 0", ("return loss.mean()", "return loss.mean(axis=0)")),
        ],
        "binary_cross_entropy": [
            ("stability: no clamp", (_BCE_LOGS, "log_p = np.log(p)\n    log_1mp = np.log(1 - p)")),
            (
                "value: clips p at 1e-7",
                (_BCE_LOGS, "p = np.clip(p, 1e-7, 1 - 1e-7)\n    log_p = np.log(p)\n    log_1mp = np.log(1 - p)"),
            ),
            (
                "stability: clamps but log(0) warns",
                (_BCE_LOGS, "log_p = np.maximum(np.log(p), -100)\n    log_1mp = np.maximum(np.log(1 - p), -100)"),
            ),
            ("value: forgets the (1 - y) term", ("loss = -(y * log_p + (1 - y) * log_1mp)", "loss = -(y * log_p)")),
            (
                "raise: no range check",
                (
                    'if np.any((p < 0) | (p > 1)):\n        raise ValueError("p must hold probabilities in [0, 1]")\n    ',
                    "",
                ),
            ),
            ("reduction: sum for mean", ("return loss.mean()", "return loss.sum()")),
            (
                "nan: silences log(0), and 0 * log(0) is nan",
                (
                    _BCE_LOGS,
                    'with np.errstate(all="ignore"):\n        log_p = np.log(p)\n        log_1mp = np.log(1 - p)',
                ),
            ),
            ("axis: the mean over the last axis", ("return loss.mean()", "return loss.mean(axis=-1)")),
        ],
        "bce_with_logits": [
            (
                "stability: sigmoid then log",
                (
                    "z = logits\n    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
                    "p = 1 / (1 + np.exp(-logits))\n    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))",
                ),
            ),
            (
                "stability: naive softplus overflows",
                (
                    "loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
                    "loss = (1 - y) * z + np.log1p(np.exp(-z))",
                ),
            ),
            ("value: sign error", ("- z * y", "+ z * y")),
            ("reduction: sum for mean", ("return loss.mean()", "return loss.sum()")),
            (
                "nan: sigmoid then log, warnings silenced",
                (
                    "z = logits\n    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
                    'with np.errstate(all="ignore"):\n        p = 1 / (1 + np.exp(-logits))\n'
                    "        loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))",
                ),
            ),
            ("raise: unknown reduction means mean", (_RED, "return loss.mean()")),
        ],
        "softmax": [
            ("stability: no max shift", ("e = np.exp(z - z.max(axis=axis, keepdims=True))", "e = np.exp(z)")),
            ("value: global max", ("e = np.exp(z - z.max(axis=axis, keepdims=True))", "e = np.exp(z - z.max())")),
            (
                "axis: sum without keepdims",
                ("return e / e.sum(axis=axis, keepdims=True)", "return e / e.sum(axis=axis)"),
            ),
            (
                "axis: ignores axis",
                ("z.max(axis=axis, keepdims=True)", "z.max(axis=-1, keepdims=True)"),
                ("e.sum(axis=axis, keepdims=True)", "e.sum(axis=-1, keepdims=True)"),
            ),
            (
                "inplace: subtracts the max from z in place",
                (
                    "e = np.exp(z - z.max(axis=axis, keepdims=True))",
                    "z -= z.max(axis=axis, keepdims=True)\n    e = np.exp(z)",
                ),
            ),
            (
                "nan: no max shift, warnings silenced (inf / inf)",
                (
                    "e = np.exp(z - z.max(axis=axis, keepdims=True))",
                    'with np.errstate(all="ignore"):\n        e = np.exp(z)\n        return e / e.sum(axis=axis, keepdims=True)',
                ),
            ),
        ],
        "log_softmax": [
            (
                "stability: log of softmax",
                (
                    BODY,
                    "e = np.exp(z - z.max(axis=axis, keepdims=True))\nreturn np.log(e / e.sum(axis=axis, keepdims=True))",
                ),
            ),
            ("stability: no max shift", (BODY, "return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))")),
            ("value: global max", ("shifted = z - z.max(axis=axis, keepdims=True)", "shifted = z - z.max()")),
            (
                "axis: sum without keepdims",
                ("np.exp(shifted).sum(axis=axis, keepdims=True)", "np.exp(shifted).sum(axis=axis)"),
            ),
            (
                "axis: ignores axis",
                ("z.max(axis=axis, keepdims=True)", "z.max(axis=-1, keepdims=True)"),
                ("np.exp(shifted).sum(axis=axis, keepdims=True)", "np.exp(shifted).sum(axis=-1, keepdims=True)"),
            ),
            (
                "inf: log of softmax, warnings silenced (log 0 = -inf)",
                (
                    BODY,
                    'e = np.exp(z - z.max(axis=axis, keepdims=True))\nwith np.errstate(all="ignore"):\n'
                    "    return np.log(e / e.sum(axis=axis, keepdims=True))",
                ),
            ),
            (
                "inplace: shifts z in place",
                (
                    "shifted = z - z.max(axis=axis, keepdims=True)",
                    "z -= z.max(axis=axis, keepdims=True)\n    shifted = z",
                ),
            ),
            _syntax("log_softmax(z, axis=-1)"),
        ],
        "cross_entropy": [
            (
                "stability: log of softmax",
                (
                    "logp = log_softmax(logits, axis=1)",
                    "e = np.exp(logits - logits.max(axis=1, keepdims=True))\n    logp = np.log(e / e.sum(axis=1, keepdims=True))",
                ),
            ),
            ("value: logp[:, target]", ("loss = -logp[np.arange(len(target)), target]", "loss = -logp[:, target]")),
            (
                "reduction: mean over N * C",
                ("loss = -logp[np.arange(len(target)), target]", "loss = -(np.eye(logits.shape[1])[target] * logp)"),
            ),
            (
                "stability: no max shift",
                (
                    "logp = log_softmax(logits, axis=1)",
                    "logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))",
                ),
            ),
            ("axis: softmax over the batch axis", ("log_softmax(logits, axis=1)", "log_softmax(logits, axis=0)")),
            ("reduction: sum for mean", ("return loss.mean()", "return loss.sum()")),
            ("raise: unknown reduction means mean", (_RED, "return loss.mean()")),
        ],
        "quiz_1": _quiz(
            "b", a="exact maths taken for floating point", c="one class wins", d="NumPy raises on overflow"
        ),
        "quiz_2": _quiz("c", a="N * C", b="the number of classes", d="the sum taken for the mean"),
        "quiz_3": _quiz("a", b="no clamp", c="nan", d="clipping p at 1e-7"),
        "quiz_4": _quiz("d", a="broadcasting ignored", b="NumPy refuses different shapes", c="a (4,) result"),
    },
    "05_chain_rule": {
        "Value": [
            (
                "value: = instead of += in __add__",
                (
                    "self.grad += out.grad\n            other.grad += out.grad",
                    "self.grad = out.grad\n            other.grad = out.grad",
                ),
            ),
            (
                "value: = instead of += in __mul__",
                (
                    "self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
                    "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad",
                ),
            ),
            (
                "value: no topological order",
                (
                    _TOPO,
                    "self.grad = 1.0\n        stack = [self]\n        while stack:\n            node = stack.pop()\n            node._backward()\n            stack.extend(node._prev)",
                ),
            ),
            ("value: relu passes gradient at 0", ("(self.data > 0) * out.grad", "(self.data >= 0) * out.grad")),
            (
                "value: tanh derivative 1 - a**2",
                ("self.grad += (1 - t * t) * out.grad", "self.grad += (1 - self.data**2) * out.grad"),
            ),
            (
                "value: pow derivative k a**k",
                ("self.grad += k * self.data ** (k - 1) * out.grad", "self.grad += k * self.data**k * out.grad"),
            ),
            ("value: exp derivative a", ("self.grad += e * out.grad", "self.grad += self.data * out.grad")),
            ("value: __rsub__ as self - other", ("return Value(other) - self", "return self - other")),
            ("value: __rtruediv__ as self / other", ("return Value(other) / self", "return self / other")),
            (
                "value: backward does not seed grad = 1",
                ("self.grad = 1.0\n        for node in reversed(order):", "for node in reversed(order):"),
            ),
            (
                "value: no __radd__ (3 + a fails)",
                (
                    "    def __radd__(self, other):  # other + self, when other is a number\n        return self + other\n\n",
                    "",
                ),
            ),
            (
                "value: no __rmul__ (2 * a fails)",
                ("    def __rmul__(self, other):  # other * self\n        return self * other\n\n", ""),
            ),
        ],
        "linear_backward": [
            ("value: missing transpose in dW", (BODY, "return dout @ W, X.T @ dout, dout.sum(axis=0)")),
            ("value: dX with W.T", (BODY, "return dout @ W.T, dout.T @ X, dout.sum(axis=0)")),
            ("reduction: db averaged", (BODY, "return dout @ W, dout.T @ X, dout.mean(axis=0)")),
            ("axis: db summed over the wrong axis", (BODY, "return dout @ W, dout.T @ X, dout.sum(axis=1)")),
            _syntax("linear_backward(dout, X, W)"),
        ],
        "relu_backward": [
            ("value: passes gradient at z == 0", ("np.where(z > 0", "np.where(z >= 0")),
            ("value: mask from dout", ("np.where(z > 0", "np.where(dout > 0")),
            ("value: forgets dout", (BODY, "return (z > 0).astype(z.dtype)")),
            ("inplace: zeroes dout in place", (BODY, "dout[z <= 0] = 0\nreturn dout")),
            ("dtype: float32 turned into float64", (BODY, "return np.where(z > 0, dout, 0.0).astype(np.float64)")),
            _syntax("relu_backward(dout, z)"),
        ],
        "sigmoid_backward": [
            ("stability: naive sigmoid overflows", (_SIG2, "s = 1 / (1 + np.exp(-z))")),
            ("value: uses z as the sigmoid output", ("return dout * s * (1 - s)", "return dout * z * (1 - z)")),
            ("value: forgets dout", ("return dout * s * (1 - s)", "return s * (1 - s)")),
            (
                "inplace: multiplies dout in place",
                ("return dout * s * (1 - s)", "dout *= s * (1 - s)\n    return dout"),
            ),
        ],
        "numerical_gradient": [
            (
                "value: one-sided difference",
                (
                    BODY,
                    "x = np.array(x, dtype=np.float64)\ngrad = np.zeros_like(x)\nf0 = f(x)\n"
                    "for i in np.ndindex(x.shape):\n    old = x[i]\n    x[i] = old + h\n    grad[i] = (f(x) - f0) / h\n    x[i] = old\n"
                    "return grad",
                ),
            ),
            ("value: divides by h, not 2h", ("(f_plus - f_minus) / (2 * h)", "(f_plus - f_minus) / h")),
            (
                "value: ignores the h argument",
                ("x[i] = old + h", "x[i] = old + 1e-5"),
                ("x[i] = old - h", "x[i] = old - 1e-5"),
                ("/ (2 * h)", "/ (2 * 1e-5)"),
            ),
            (
                "inplace: perturbs the caller's x with += and -=",
                (
                    BODY,
                    "grad = np.zeros_like(x)\nfor i in np.ndindex(x.shape):\n    x[i] += h\n    f_plus = f(x)\n    x[i] -= 2 * h\n"
                    "    f_minus = f(x)\n    x[i] += h\n    grad[i] = (f_plus - f_minus) / (2 * h)\nreturn grad",
                ),
            ),
            ("axis: loops over rows only", ("for i in np.ndindex(x.shape):", "for i in range(len(x)):")),
        ],
        "two_layer_grads": [
            ("reduction: forgets the 1/N of the mean", ("dscores /= n\n    ", "")),
            ("value: no ReLU mask", ("dz1 = relu_backward(dh, z1)", "dz1 = dh")),
            ("value: dW2 transposed", ('"W2": dW2', '"W2": h.T @ dscores')),
            ("reduction: summed loss", ("loss = -logp[np.arange(n), y].mean()", "loss = -logp[np.arange(n), y].sum()")),
            ("value: softmax gradient without the one-hot", ("dscores[np.arange(n), y] -= 1\n    ", "")),
            ("axis: db1 summed over the wrong axis", ('"b1": db1', '"b1": dz1.sum(axis=1)')),
            (
                "inplace: takes a training step on params",
                (
                    "    return float(loss), grads",
                    "    for k in params:\n        params[k] -= 0.1 * grads[k]\n    return float(loss), grads",
                ),
            ),
        ],
        "quiz_1": _quiz(
            "b", a="one path only (= instead of +=)", c="the last use only", d="the value taken for the gradient"
        ),
        "quiz_2": _quiz("d", a="dL/dX", b="dW transposed", c="dL/db"),
        "quiz_3": _quiz("a", b="z >= 0", c="the mean of both sides", d="a raised error"),
        "quiz_4": _quiz("c", a="fewer evaluations", b="exact for every function", d="no round-off"),
    },
}

# Wrong answers made by wrapping the right one, for every function where the class applies and no
# hand-written mutant of the class exists: "nan" and "inf" for every float-returning function,
# "inplace" for every function with array inputs, "dtype64" for functions whose tests pass float32.
GENERIC = {
    "01_neuron": {
        "weighted_sum": ("nan", "inf"),
        "sigmoid": ("inf", "inplace"),
        "relu": ("nan", "inf"),
        "neuron_forward": ("nan", "inf", "inplace"),
        "dense_forward": ("nan", "inf", "inplace"),
    },
    "02_learning_rate": {
        "sgd_step": ("nan", "inf"),
        "gradient_descent": ("nan", "inf"),
        "max_stable_lr": ("nan", "inf", "inplace"),
        "step_decay": ("nan", "inf", "inplace"),
        "cosine_decay": ("nan", "inf", "inplace"),
    },
    "03_initialization": {
        "calculate_gain": ("nan", "inf"),
        "xavier_uniform": ("nan", "inf"),
        "xavier_normal": ("nan", "inf"),
        "kaiming_uniform": ("nan", "inf"),
        "kaiming_normal": ("nan", "inf"),
    },
    "04_loss": {
        "mse": ("nan", "inf", "dtype64"),
        "binary_cross_entropy": ("inf", "inplace", "dtype64"),
        "bce_with_logits": ("inf", "inplace", "dtype64"),
        "softmax": ("inf", "dtype64"),
        "log_softmax": ("nan", "dtype64"),
        "cross_entropy": ("nan", "inf", "inplace", "dtype64"),
    },
    "05_chain_rule": {
        "linear_backward": ("nan", "inf", "inplace", "dtype64"),
        "relu_backward": ("nan", "inf"),
        "sigmoid_backward": ("nan", "inf", "dtype64"),
        "numerical_gradient": ("nan", "inf"),
        "two_layer_grads": ("nan", "inf"),
    },
}

_WRAP = """


_mutant_right = {name}


def {name}(*args, **kwargs):  # the right answer, spoilt
    def spoil(r):
        if isinstance(r, dict):
            return {{k: spoil(v) for k, v in r.items()}}
        if isinstance(r, tuple):
            return tuple(spoil(v) for v in r)
        {spoil}
        return r

    result = _mutant_right(*args, **kwargs)
    {after}
    return spoil(result)"""
_FLOATS = "if isinstance(r, float | np.floating | np.ndarray) and np.asarray(r).dtype.kind == 'f':"
_GENERIC = {
    "nan": (
        "nan: returns NaN where the answer is finite",
        f"{_FLOATS}\n            return np.full_like(r, np.nan)",
        "",
    ),
    "inf": (
        "inf: returns inf where the answer is finite",
        f"{_FLOATS}\n            return np.full_like(r, np.inf)",
        "",
    ),
    "inplace": (
        "inplace: adds 1 to its array inputs in place (after computing the answer)",
        "",
        "for a in args:\n        if isinstance(a, np.ndarray) and a.dtype.kind in 'iuf':\n            a += 1",
    ),
    "dtype64": (
        "dtype: turns float32 results into float64",
        "if isinstance(r, np.ndarray | np.floating) and r.dtype == np.float32:\n            return r.astype(np.float64)",
        "",
    ),
}


def _add_generic_mutants():
    for assignment, functions in GENERIC.items():
        for name, kinds in functions.items():
            for kind in kinds:
                label, spoil, after = _GENERIC[kind]
                MUTANTS[assignment][name].append((label, (APPEND, _WRAP.format(name=name, spoil=spoil, after=after))))


_add_generic_mutants()


def mutant_class(mutant):
    """The class of a mutant: the prefix of its label, a key of ``CLASSES``."""
    return mutant[0].split(":", 1)[0]


@functools.cache
def _notebook(folder, assignment):
    return nbformat.read(ROOT / folder / assignment / f"{assignment}.ipynb", as_version=4)


def notebook(folder, assignment):
    """The committed notebook ``folder/<id>/<id>.ipynb`` (folder: solutions or exercises), a fresh copy."""
    return copy.deepcopy(_notebook(folder, assignment))


def grade_id(cell):
    """The cell's nbgrader grade_id, or None."""
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def solution_sources(assignment):
    """``{grade_id: source}`` of the solution cells of the source notebook (markers included)."""
    cells = _notebook("solutions", assignment).cells
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
        if old is APPEND:
            source += new
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


@functools.cache
def _compiled(source, name):
    return compile(source, name, "exec")


def failing_tests(assignment, function=None, index=None, replace=None):
    """Run the source notebook in-process with mutant ``index`` of ``function`` swapped in.

    ``replace`` maps further grade_ids to other answer sources (e.g. a quiz
    answer). Every code cell runs in order in one namespace (as in a kernel)
    with warnings as errors (nbgrader scores a test cell with stderr output 0).
    Returns ``{grade_id: message}`` of the graded test cells that raised.

    Test cells before the first changed cell are skipped: they cannot see the
    change, and a test cell is self-contained (the grader runs each one alone),
    so their verdict is the solution's, a pass.
    """
    filled = answers(assignment, function, index)
    filled.update(replace or {})
    changed = ({function} | set(replace or ())) - {None}
    ns = {"__name__": "__main__"}
    failed = {}
    reached = not changed
    for cell in _notebook("solutions", assignment).cells:
        if cell.cell_type != "code":
            continue
        gid = grade_id(cell)
        reached = reached or gid in changed
        graded = cell.metadata.get("nbgrader", {}).get("grade")
        if graded and not reached:
            continue
        source = filled.get(gid, cell.source)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                exec(_compiled(source, f"<{assignment}:{gid}>"), ns)
        except Exception as e:
            if graded:
                failed[gid] = f"{type(e).__name__}: {e}"[:300]
    return failed


def all_mutants():
    """Every ``(assignment, grade_id, index, label)`` of the bank."""
    return [(a, fn, i, m[0]) for a, fns in MUTANTS.items() for fn, ms in fns.items() for i, m in enumerate(ms)]


def sample_per_class(assignment):
    """One mutant of each class of ``assignment``'s bank: ``[(function, index, label)]``.

    For the end-to-end runs (real nbgrader, ``nnbasics grade``), which cost
    seconds per notebook; the in-process run covers every mutant. Each class
    takes its mutant from the function sampled least so far, so the sample
    spreads over the functions.
    """
    chosen, used = [], {}
    for cls in CLASSES:
        candidates = [
            (fn, i, m[0]) for fn, ms in MUTANTS[assignment].items() for i, m in enumerate(ms) if mutant_class(m) == cls
        ]
        if candidates:
            pick = min(candidates, key=lambda c: used.get(c[0], 0))  # stable: the first of the least-used functions
            used[pick[0]] = used.get(pick[0], 0) + 1
            chosen.append(pick)
    return chosen


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
