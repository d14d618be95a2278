"""Test cases as data: the one helper every exercise test cell calls.

A test cell is a list of calls::

    check(sigmoid, args=(0.0,), expect=0.5, msg="sigmoid(0) = 1 / (1 + e^0)")

``fn`` is the learner's function (``args=None`` checks a variable's value
instead of calling it); ``expect`` is a value, or one of ``Raises``,
``Shape``, ``Sample``, ``Choice``; ``rtol``/``atol`` are the tolerance and
``msg`` the hint shown when the case fails.

In a notebook (plain Jupyter, stock ``nbgrader autograde``) ``check`` runs the
case at once and raises ``AssertionError``. ``nnbasics grade`` runs the same
test-cell source in the grader's own process with a recording ``check``,
sends only the inputs to the learner's kernel (``probe``), gets the outputs
back as JSON data (``encode``) and judges them there (``judge``), so nothing
in the learner's process decides a verdict. Both paths go through the same
``encode`` -> ``decode`` -> ``judge`` steps, so they always agree.

This file is standalone (NumPy and the standard library only) because its
source is embedded in the first, locked cell of every exercise notebook.
"""

import base64
import hashlib
import json
import re
import warnings

import numpy as np

MIME = "application/vnd.nnbasics.probe+json"
_MAX_DEPTH = 16
_DTYPE = re.compile(r"^[<>|=]?[biuf][1248]$")


# -- expectations -------------------------------------------------------------


class Raises:
    """Expect the call to raise ``exc`` (a name such as ``"ValueError"``)."""

    def __init__(self, exc, match=None):
        self.exc = exc if isinstance(exc, str) else exc.__name__
        self.match = match

    def __repr__(self):
        return f"a {self.exc}"


class Shape:
    """Expect an ndarray of this shape (and dtype, if given)."""

    def __init__(self, shape, dtype=None):
        self.shape, self.dtype = tuple(shape), dtype

    def __repr__(self):
        return f"an array of shape {self.shape}" + (f" and dtype {self.dtype}" if self.dtype else "")


class Sample:
    """Expect a random float array with these statistics.

    ``mean`` is checked to ``mean_atol``, ``std`` to a relative ``std_rtol``,
    and every entry must lie in ``[low, high]`` when those are given.
    """

    def __init__(self, shape, mean=None, std=None, low=None, high=None, dtype="float64", mean_atol=0.0, std_rtol=0.0):
        self.shape, self.dtype = tuple(shape), dtype
        self.mean, self.std, self.low, self.high = mean, std, low, high
        self.mean_atol, self.std_rtol = mean_atol, std_rtol

    def __repr__(self):
        return f"a {self.dtype} sample of shape {self.shape} with mean {self.mean} and std {self.std}"


class Choice:
    """Expect a string answer equal to one of ``options`` (case and spaces ignored)."""

    def __init__(self, *options):
        self.options = tuple(_norm(o) for o in options)

    def __repr__(self):
        return " or ".join(repr(o) for o in self.options)


def _norm(s):
    return s.strip().lower() if isinstance(s, str) else s


# -- call arguments that are not plain data -----------------------------------


class Ref:
    """A name in the learner's namespace (their function, class or variable)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


class Lambda:
    """A small function given as source, e.g. ``Lambda("lambda x: np.sum(x**2)")``."""

    def __init__(self, src):
        self.src = src
        self._fn = None

    def __call__(self, *args):
        if self._fn is None:
            self._fn = eval(self.src, {"np": np})  # source comes from the test cell, not the learner
        return self._fn(*args)

    def __repr__(self):
        return self.src


def value_grads(Value, program, inputs):
    """Run a scalar-autograd ``program`` on ``Value`` inputs and return data and grads.

    ``program`` is Python source that assigns ``out`` from the names in
    ``inputs`` (e.g. ``"c = a * b\\nout = c.tanh() + c"``); ``out.backward()``
    is called and ``{"data": out.data, "grad": {name: grad}}`` returned.
    """
    names = {k: Value(float(v)) for k, v in inputs.items()}
    exec(program, {"np": np}, names)  # the program comes from the test cell
    out = names["out"]
    if not isinstance(out, Value):
        raise TypeError(f"the expression gave a {type(out).__name__}, not a Value")
    out.backward()
    return {"data": float(out.data), "grad": {k: float(names[k].grad) for k in inputs}}


# -- the data format between kernel and grader --------------------------------


def encode(x, depth=0):
    """Turn a value into JSON-safe data that keeps its exact type, shape and dtype."""
    if depth > _MAX_DEPTH:
        return {"t": "other", "type": "too deeply nested", "repr": ""}
    t = type(x)
    if x is None:
        return {"t": "none"}
    if t is bool or t is np.bool_:
        return {"t": "bool", "v": bool(x)}
    if t is int:
        return {"t": "int", "v": x}
    if t is float:
        return {"t": "float", "v": x.hex()}
    if isinstance(x, np.integer) and t.__module__ == "numpy":
        return {"t": "npint", "dtype": x.dtype.str, "v": int(x)}
    if isinstance(x, np.floating) and t.__module__ == "numpy":
        return {"t": "npfloat", "dtype": x.dtype.str, "v": float(x).hex()}
    if t is str:
        return {"t": "str", "v": x}
    if t in (tuple, list):
        return {"t": t.__name__, "items": [encode(v, depth + 1) for v in x]}
    if t is dict and all(type(k) is str for k in x):
        return {"t": "dict", "items": {k: encode(v, depth + 1) for k, v in x.items()}}
    if t is np.ndarray and x.dtype.kind in "biuf":
        data = base64.b64encode(np.ascontiguousarray(x).tobytes()).decode()
        return {"t": "ndarray", "dtype": x.dtype.str, "shape": list(x.shape), "b64": data}
    if t is np.random.Generator:
        return {"t": "rng", "state": encode(x.bit_generator.state, depth + 1)}
    if t is Ref:
        return {"t": "ref", "name": x.name}
    if t is Lambda:
        return {"t": "lambda", "src": x.src}
    return {"t": "other", "type": f"{t.__module__}.{t.__qualname__}", "repr": _safe_repr(x)}


def _safe_repr(x):
    try:
        return repr(x)[:200]
    except BaseException:
        return "<unprintable>"


def _safe_str(e):
    try:
        return str(e)
    except BaseException:
        return "<unprintable>"


class Opaque:
    """A value of a type the format does not carry; it equals nothing."""

    def __init__(self, type_name, text):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return f"a {self.type_name} ({self.text})"


def decode(d, resolve=None, depth=0):
    """Rebuild a value from ``encode``'s data, trusting nothing about it.

    ``resolve`` turns a ``Ref`` name into an object (used in the kernel); the
    grader passes ``None`` and gets ``Ref`` objects back. Malformed data
    raises ``ValueError``.
    """
    if depth > _MAX_DEPTH or type(d) is not dict:
        raise ValueError("malformed probe data")
    t = d.get("t")
    if t == "none":
        return None
    if t == "bool" and type(d.get("v")) is bool:
        return d["v"]
    if t == "int" and type(d.get("v")) is int:
        return d["v"]
    if t == "float":
        return float.fromhex(_str(d.get("v")))
    if t == "npint" and type(d.get("v")) is int:
        return np.dtype(_dtype(d, "iu")).type(d["v"])
    if t == "npfloat":
        return np.dtype(_dtype(d, "f")).type(float.fromhex(_str(d.get("v"))))
    if t == "str":
        return _str(d.get("v"))
    if t in ("tuple", "list") and type(d.get("items")) is list:
        items = [decode(v, resolve, depth + 1) for v in d["items"]]
        return tuple(items) if t == "tuple" else items
    if t == "dict" and type(d.get("items")) is dict:
        return {_str(k): decode(v, resolve, depth + 1) for k, v in d["items"].items()}
    if t == "ndarray":
        dtype, shape = np.dtype(_dtype(d, "biuf")), d.get("shape")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError("malformed probe data")
        buf = base64.b64decode(_str(d.get("b64")), validate=True)
        if len(buf) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise ValueError("malformed probe data")
        return np.frombuffer(buf, dtype=dtype).reshape(shape).copy()
    if t == "rng":
        gen = np.random.Generator(np.random.PCG64())
        gen.bit_generator.state = decode(d.get("state"), None, depth + 1)
        return gen
    if t == "ref":
        name = _str(d.get("name"))
        return resolve(name) if resolve else Ref(name)
    if t == "lambda":
        return Lambda(_str(d.get("src")))
    if t == "other":
        return Opaque(_str(d.get("type")), _str(d.get("repr")))
    raise ValueError("malformed probe data")


def _str(v):
    if type(v) is not str:
        raise ValueError("malformed probe data")
    return v


def _dtype(d, kinds):
    s = _str(d.get("dtype"))
    if not _DTYPE.match(s) or np.dtype(s).kind not in kinds:
        raise ValueError("malformed probe data")
    return s


def digest(args):
    """A fingerprint of the call's array inputs, to see whether the call changed them."""

    def plain(x):
        if callable(x) or type(x) in (Ref, np.random.Generator):
            return None  # functions and generators are not data a call must keep
        if type(x) in (tuple, list):
            return [plain(v) for v in x]
        if type(x) is dict:
            return {str(k): plain(v) for k, v in x.items()}
        return encode(x)

    return hashlib.sha256(json.dumps(plain(args), sort_keys=True).encode()).hexdigest()


# -- running a case (in the learner's kernel) ---------------------------------


def run_case(fn, args, kwargs):
    """Call ``fn(*args, **kwargs)`` (or take ``fn`` itself when ``args`` is None).

    Returns the outcome as encoded data: the value or the exception, the
    warnings raised, the fingerprint of the inputs after the call and the
    module that defined ``fn``.
    """
    learner_objects = [fn, *(args or ())] if args is not None else []
    modules = [getattr(x, "__module__", None) for x in learner_objects if callable(x) and not _is_helper(x)]
    out = {"modules": [m for m in modules if type(m) is str], "warnings": []}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                value = fn if args is None else fn(*args, **kwargs)
        out["value"] = encode(value)
        out["warnings"] = [f"{w.category.__name__}: {w.message}"[:300] for w in caught]
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # SystemExit too: a learner's exit is just a failed call
        out["error"] = {
            "type": type(e).__name__,
            "mro": [c.__name__ for c in type(e).__mro__],
            "message": _safe_str(e)[:300],
        }
    out["args_digest"] = digest([args, kwargs])
    return out


def probe(payload, nonce, namespace):
    """Grader mode: run the cases in ``payload`` (JSON) and display their outcomes as data."""
    from IPython.display import display

    def resolve(name):
        if name in _HELPERS:
            return _HELPERS[name]
        if name not in namespace:
            raise NameError(f"name '{name}' is not defined (did you run the cell that defines it?)")
        return namespace[name]

    results = []
    for case in json.loads(payload):
        try:
            fn = decode(case["fn"], resolve)
            args = decode(case["args"], resolve)
            kwargs = decode(case["kwargs"], resolve)
        except NameError as e:
            results.append({"error": {"type": "NameError", "mro": ["NameError"], "message": str(e)}})
            continue
        results.append(run_case(fn, args, kwargs))
    display({MIME: {"nonce": nonce, "results": results}}, raw=True)


_HELPERS = {"value_grads": value_grads}


def _is_helper(x):
    if type(x) is Ref:  # in the grader, a helper is still a name
        return x.name in _HELPERS
    return type(x) is Lambda or any(x is h for h in _HELPERS.values())


# -- judging an outcome (in the grader, or in the notebook) ------------------


REFERENCE_OK = False  # True only when the course's own tests run the cases against nnbasics itself


def judge(outcome, expect, rtol=1e-7, atol=0.0, args_digest=None, reference_ok=False):
    """Return ``None`` when ``outcome`` meets ``expect``, else why not (one sentence)."""
    modules = outcome.get("modules") or []
    if not reference_ok and any(isinstance(m, str) and m.split(".")[0] == "nnbasics" for m in modules):
        return "it calls the nnbasics reference implementation, which is not allowed in an answer"
    error = outcome.get("error")
    if isinstance(expect, Raises):
        if error is None:
            return f"expected {expect!r} to be raised, but the call returned normally"
        if expect.exc not in (error.get("mro") or [error.get("type")]):
            return f"expected {expect!r}, got {error.get('type')}: {error.get('message')}"
        if expect.match and not re.search(expect.match, str(error.get("message"))):
            return f"the {expect.exc} message should mention {expect.match!r}; got {error.get('message')!r}"
        return None
    if error is not None:
        return f"raised {error.get('type')}" + (f": {error['message']}" if error.get("message") else "")
    if outcome.get("warnings"):
        return f"emitted a warning ({outcome['warnings'][0]}); a correct answer emits none"
    if args_digest is not None and outcome.get("args_digest") != args_digest:
        return "it changed its input arrays in place; compute a new array instead"
    try:
        got = decode(outcome["value"])
    except (KeyError, ValueError, TypeError, OverflowError):
        return "its result could not be read back"
    return _compare(got, expect, rtol, atol)


def _describe(x):
    if isinstance(x, np.ndarray):
        body = np.array2string(x, threshold=8, precision=6) if x.size else "[]"
        return f"array of shape {x.shape}, dtype {x.dtype}: {body}"
    if isinstance(x, float | np.floating):
        return f"{float(x)!r}"
    return repr(x) if not isinstance(x, Opaque) else str(x)


def _is_real(x):
    return type(x) in (int, float) or (isinstance(x, np.number) and not isinstance(x, np.complexfloating))


def _compare(got, want, rtol, atol, where=""):
    at = f" (at {where})" if where else ""
    if isinstance(want, Choice):
        if type(got) is not str or _norm(got) not in want.options:
            return f"{_describe(got)} is not right"
        return None
    if isinstance(want, Shape | Sample):
        if type(got) is not np.ndarray:
            return f"expected {want!r}{at}, got {_describe(got)}"
        if got.shape != want.shape:
            return f"expected shape {want.shape}{at}, got {got.shape}"
        if want.dtype and got.dtype != np.dtype(want.dtype):
            return f"expected dtype {want.dtype}{at}, got {got.dtype}"
        return _sample(got, want) if isinstance(want, Sample) else None
    if isinstance(want, np.ndarray):
        if type(got) is not np.ndarray:
            return f"expected a numpy array{at}, got {_describe(got)}"
        if got.shape != want.shape:
            return f"expected shape {want.shape}{at}, got {got.shape}"
        if want.dtype.kind == "f" and got.dtype != want.dtype:
            return f"expected dtype {want.dtype}{at}, got {got.dtype}"
        if want.dtype.kind in "iu" and got.dtype.kind not in "iu":
            return f"expected an integer array{at}, got dtype {got.dtype}"
        if want.dtype.kind == "b" and got.dtype.kind != "b":
            return f"expected a boolean array{at}, got dtype {got.dtype}"
        bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            return f"expected {_describe(want)}{at}, got {_describe(got)}; first difference at index {i}"
        return None
    if type(want) is bool or type(want) is np.bool_:
        ok = type(got) in (bool, np.bool_) and bool(got) == bool(want)
        return None if ok else f"expected {want!r}{at}, got {_describe(got)}"
    if type(want) is int or isinstance(want, np.integer):
        ok = (type(got) is int or isinstance(got, np.integer)) and int(got) == int(want)
        return None if ok else f"expected the integer {int(want)}{at}, got {_describe(got)}"
    if isinstance(want, float | np.floating):
        if type(got) is np.ndarray and got.shape == () and got.dtype.kind in "fiu":
            got = got[()]
        if not _is_real(got):
            return f"expected a number close to {float(want)!r}{at}, got {_describe(got)}"
        if not np.isclose(float(got), float(want), rtol=rtol, atol=atol, equal_nan=True):
            return f"expected {float(want)!r}{at}, got {float(got)!r}"
        return None
    if isinstance(want, tuple | list):
        if type(got) not in (tuple, list) or len(got) != len(want):
            return f"expected a tuple of {len(want)} values{at}, got {_describe(got)}"
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            why = _compare(g, w, rtol, atol, f"{where}[{k}]")
            if why:
                return why
        return None
    if isinstance(want, dict):
        if type(got) is not dict or set(got) != set(want):
            keys = sorted(got) if type(got) is dict else None
            return f"expected a dict with keys {sorted(want)}{at}, got {keys if keys is not None else _describe(got)}"
        for k in want:
            why = _compare(got[k], want[k], rtol, atol, f"{where}[{k!r}]")
            if why:
                return why
        return None
    if type(got) is not type(want) or got != want:
        return f"expected {want!r}{at}, got {_describe(got)}"
    return None


def _sample(got, want):
    if (want.low is not None and got.min() < want.low) or (want.high is not None and got.max() > want.high):
        return f"expected every value in [{want.low}, {want.high}], got values in [{got.min():.6g}, {got.max():.6g}]"
    if want.mean is not None and abs(got.mean() - want.mean) > want.mean_atol:
        return f"expected a mean near {want.mean}, got {got.mean():.6g}"
    if want.std is not None and abs(got.std() / want.std - 1) > want.std_rtol:
        return f"expected a standard deviation near {want.std:.6g}, got {got.std():.6g}"
    return None


# -- the helper test cells call ------------------------------------------------


def check(fn, args=None, kwargs=None, *, expect, rtol=1e-7, atol=0.0, msg=""):
    """Run one test case now and raise ``AssertionError`` with a hint if it fails.

    ``fn(*args, **kwargs)`` is called (``fn`` itself is checked when ``args``
    is None) and its result compared with ``expect``; the inputs must be left
    unchanged and no warning may be raised.
    """
    args = None if args is None else tuple(args)
    kwargs = dict(kwargs or {})
    before = digest([args, kwargs])
    outcome = json.loads(json.dumps(run_case(fn, args, kwargs)))
    why = judge(outcome, expect, rtol, atol, before, REFERENCE_OK)
    if why:
        raise AssertionError(failure(fn, args, why, msg))


def failure(fn, args, why, msg):
    """The message of a failed case: whose answer, what went wrong, and the hint."""
    if args is None:  # a value (a quiz answer), not a call
        return f"your answer: {why}. {msg}".strip()
    learner = args[0] if _is_helper(fn) and args else fn
    name = learner.name if type(learner) is Ref else getattr(learner, "__name__", "your function")
    return f"{name}: {why}. {msg}".strip()
