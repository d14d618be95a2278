"""Test cases as data: the one helper every exercise test cell calls.

A test cell is a list of calls::

    check(sigmoid, args=(0.0,), expect=0.5, msg="sigmoid(0) = 1 / (1 + e^0)")

``fn`` is the learner's function (``args=None`` checks a variable's value
instead of calling it); ``expect`` is a value, or one of ``Raises``,
``Shape``, ``Sample``, ``Draws``, ``Choice``; ``rtol``/``atol`` are the
tolerance and ``msg`` the hint shown when the case fails. ``given`` maps
names the learner's function may call (their own ``sigmoid``, ``fans``, ...)
to trusted stand-ins for the duration of the call, so that a test depends on
its own function only.

In a notebook (plain Jupyter, stock ``nbgrader autograde``) ``check`` runs the
case at once and raises ``AssertionError``. ``nnbasics grade`` runs the same
test-cell source in the grader's own process with a recording ``check``,
sends only the inputs to the learner's kernel (``probe``), gets the outputs
back as JSON data (``encode``; large arrays as raw frames of the same
message) and judges them there (``judge``), so nothing in the learner's
process decides a verdict. Both paths go through the same
``encode`` -> ``decode`` -> ``judge`` steps, so they always agree.

``encode`` is bounded: a value larger than ``MAX_VALUE_BYTES`` or nested
deeper than ``_MAX_DEPTH`` is replaced by a marker, never sent whole;
``decode`` trusts nothing (malformed data raises ``ValueError``) and ``judge``
never raises: whatever comes back, the case passes or fails with one sentence.

This file is standalone (NumPy and the standard library only) because its
source is embedded in the first, locked cell of every exercise notebook.
"""

import base64
import hashlib
import json
import math as _math  # private: the notebooks import math themselves
import re
import sys
import types
import warnings

NEEDS = (
    "These exercises need Python 3.10 or newer and NumPy: install NumPy with `pip install numpy` "
    "(or `conda install numpy`; Google Colab already has it), restart the kernel and run this cell again."
)


class MissingRequirement(ImportError):
    """Python or NumPy is missing; IPython shows just the sentence, not a traceback."""

    def _render_traceback_(self):  # IPython's hook: these lines replace the traceback
        return [str(self)]


if sys.version_info < (3, 10):  # noqa: UP036 (this file also runs in a learner's own kernel, any Python)
    raise MissingRequirement(NEEDS)
try:
    import numpy as np
except ImportError:
    raise MissingRequirement(NEEDS) from None

MIME = "application/vnd.nnbasics.probe+json"
MAX_VALUE_BYTES = 4 << 20  # per returned value, as JSON: a (256, 512) float64 sample is 1.4 MB
_MAX_DEPTH = 16
_MAX_TEXT = 300  # characters of a learner's message (exception, warning) that are kept
_SAFE_INT = 2**53  # larger ints travel as decimal strings (JSON readers may turn numbers into doubles)
_MAX_INT_BITS = 13000  # about 3900 digits, below Python's 4300-digit str/int conversion limit
_DTYPE = re.compile(r"^[<>|=]?[biuf][1248]$")
_INT_TEXT = re.compile(r"^-?[0-9]{1,4000}$")
_NP_SCALARS = frozenset(np.sctypeDict.values())
BUFFER_BYTES = 64 << 10  # an array this large travels as a raw frame of the message when the kernel can send one


# -- expectations -------------------------------------------------------------


class Raises:
    """Expect the call to raise ``exc`` (a name such as ``"ValueError"``)."""

    def __init__(self, exc, match=None):
        self.exc = exc if isinstance(exc, str) else exc.__name__
        self.match = match

    def __repr__(self):
        return f"a {self.exc}"


class Shape:
    """Expect an ndarray of this shape (and dtype, if given); a float array must hold finite values."""

    def __init__(self, shape, dtype=None):
        self.shape, self.dtype = tuple(shape), dtype

    def __repr__(self):
        return f"an array of shape {self.shape}" + (f" and dtype {self.dtype}" if self.dtype else "")


class Sample:
    """Expect a random float array with these statistics.

    ``mean`` is checked to ``mean_atol``, ``std`` to a relative ``std_rtol``,
    and every entry must lie in ``[low, high]`` when those are given. With
    ``dist="normal"`` (N(mean, std**2)) or ``dist="uniform"`` (U(low, high))
    the whole distribution is checked too: the largest gap between the
    sample's CDF and the expected one, over a grid of points, must stay below
    ``eps = sqrt(log(2 / p) / (2 n))``. By the Dvoretzky-Kiefer-Wolfowitz
    inequality (Massart's constant, valid for every n) a correct sample
    exceeds it with probability at most ``p = 1e-9``, however the learner
    draws it; a uniform or truncated normal with the right std does not fit
    a normal (for n = 131072, eps = 0.009 while their gaps are 0.058 and 0.018).
    """

    def __init__(
        self,
        shape,
        mean=None,
        std=None,
        low=None,
        high=None,
        dtype="float64",
        mean_atol=0.0,
        std_rtol=0.0,
        dist=None,
    ):
        self.shape, self.dtype = tuple(shape), dtype
        self.mean, self.std, self.low, self.high = mean, std, low, high
        self.mean_atol, self.std_rtol, self.dist = mean_atol, std_rtol, dist

    def __repr__(self):
        return f"a {self.dtype} sample of shape {self.shape} with mean {self.mean} and std {self.std}"


class Draws:
    """Expect the results of ``draws(fn, args, kwargs, seeds)``: one array of ``shape`` per seed.

    Calls with equal seeds must give equal arrays (the randomness comes from
    ``rng``), calls with different seeds different ones, and two calls with
    ``rng=None`` different ones (fresh randomness, not a fixed seed).
    """

    def __init__(self, shape, seeds, dtype="float64"):
        self.shape, self.seeds, self.dtype = tuple(shape), tuple(seeds), dtype

    def __repr__(self):
        return f"{len(self.seeds)} arrays of shape {self.shape}, one per seed {self.seeds}"


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
    """A small function given as source, e.g. ``Lambda("lambda x: np.sum(x**2)")`` (``np`` and ``math`` known)."""

    def __init__(self, src):
        self.src = src
        self._fn = None

    def __call__(self, *args, **kwargs):
        if self._fn is None:
            self._fn = eval(self.src, {"np": np, "math": _math})  # source comes from the test cell, not the learner
        return self._fn(*args, **kwargs)

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


def draws(fn, args, kwargs, seeds):
    """Call ``fn(*args, **kwargs, rng=...)`` once per seed and return the results as a tuple.

    A seed gives ``rng=np.random.default_rng(seed)`` (a new generator each
    call); ``None`` gives ``rng=None``. Checked with ``Draws``.
    """
    return tuple(fn(*args, **{**kwargs, "rng": None if s is None else np.random.default_rng(s)}) for s in seeds)


TEST_NAMES = ("Raises", "Shape", "Sample", "Draws", "Choice", "Lambda")  # what a test cell may use besides check


# -- the data format between kernel and grader --------------------------------


class _Refused(Exception):
    def __init__(self, why):
        self.why = why


def _type_name(x):
    """``module.qualname`` of ``type(x)``, read without running any of the learner's code."""
    t = type(x)
    try:
        module = type.__dict__["__module__"].__get__(t)
        name = type.__dict__["__qualname__"].__get__(t)
    except Exception:
        return "?"
    module = module if type(module) is str else "?"
    return _text(name if module == "builtins" else f"{module}.{name}", 120)


def _text(s, limit=_MAX_TEXT):
    """``s`` cut to ``limit`` characters and made valid UTF-8 (a lone surrogate becomes ``\\ud83d``)."""
    s = s if type(s) is str else "?"
    if len(s) > limit:
        s = s[: limit - 3] + "..."
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _spend(budget, n):
    budget[0] -= n
    if budget[0] < 0:
        raise _Refused("large")


def encode(x, limit=MAX_VALUE_BYTES, buffers=None):
    """Turn a value into JSON-safe data that keeps its exact type, shape and dtype.

    Never raises and never exceeds about ``limit`` bytes: a value beyond it,
    nested deeper than 16 levels (a list that contains itself) or unreadable
    becomes ``{"t": "refused", "why": "large" | "deep" | "unreadable", "type": ...}``.
    With a list as ``buffers``, an array of ``BUFFER_BYTES`` or more is
    appended to it as bytes, and the data names its index (``"buf"``) instead
    of holding its base64: the kernel sends those bytes as frames of the
    message (base64 and the JSON around it took 0.2 s of CPU for the 12 MB of
    samples of 03_initialization).
    """
    kept = len(buffers) if buffers is not None else 0
    try:
        return _encode(x, 0, [limit], False, buffers)
    except _Refused as e:
        why = e.why
    except RecursionError:
        why = "deep"
    except Exception:
        why = "unreadable"
    if buffers is not None:
        del buffers[kept:]  # the arrays of a value refused are not sent
    return {"t": "refused", "why": why, "type": _type_name(x)}


def _encode(x, depth, budget, plain, buffers=None):
    if depth > _MAX_DEPTH:
        raise _Refused("deep")
    _spend(budget, 16)
    t = type(x)
    if plain and (callable(x) or t in (Ref, np.random.Generator)):
        return {"t": "skip"}  # a fingerprint ignores functions and generators: they are not data a call must keep
    if x is None:
        return {"t": "none"}
    if t is bool or t is np.bool_:
        return {"t": "bool", "v": bool(x)}
    if t is int:
        if -_SAFE_INT < x < _SAFE_INT:
            return {"t": "int", "v": x}
        if x.bit_length() > _MAX_INT_BITS:
            raise _Refused("large")
        digits = str(x)
        _spend(budget, len(digits))
        return {"t": "int", "s": digits}
    if t is float:
        return {"t": "float", "v": x.hex()}
    if t in _NP_SCALARS and _DTYPE.match(x.dtype.str):
        if x.dtype.kind in "iu":
            return {"t": "npint", "dtype": x.dtype.str, "v": int(x)}
        if x.dtype.kind == "f":
            return {"t": "npfloat", "dtype": x.dtype.str, "v": float(x).hex()}
    if t is str:
        _spend(budget, len(x) if x.isascii() else 6 * len(x))
        try:
            x.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: exact bytes, since JSON messages must be valid UTF-8
            return {"t": "str", "b64": base64.b64encode(x.encode("utf-8", "surrogatepass")).decode()}
        return {"t": "str", "v": x}
    if t in (tuple, list):
        _spend(budget, 16 * len(x))
        return {"t": t.__name__, "items": [_encode(v, depth + 1, budget, plain, buffers) for v in x]}
    if t is dict and all(type(k) is str for k in x):
        _spend(budget, 16 * len(x))
        items = {}
        for k, v in x.items():
            _spend(budget, len(k))
            items[_text(k, len(k))] = _encode(v, depth + 1, budget, plain, buffers)
        return {"t": "dict", "items": items}
    if t is np.ndarray and _DTYPE.match(x.dtype.str):
        # before any copy: base64 takes 4 bytes per 3 (a buffer is charged the same, so that a notebook's check,
        # which sends none, and the grader refuse the same values)
        _spend(budget, x.nbytes * 4 // 3 + 64)
        if buffers is not None and x.nbytes >= BUFFER_BYTES:
            buffers.append(np.ascontiguousarray(x).tobytes())
            return {"t": "ndarray", "dtype": x.dtype.str, "shape": list(x.shape), "buf": len(buffers) - 1}
        data = base64.b64encode(np.ascontiguousarray(x).tobytes()).decode()
        return {"t": "ndarray", "dtype": x.dtype.str, "shape": list(x.shape), "b64": data}
    if t is np.random.Generator:
        return {"t": "rng", "state": _encode(x.bit_generator.state, depth + 1, budget, plain, buffers)}
    if t is Ref:
        return {"t": "ref", "name": x.name}
    if t is Lambda:
        return {"t": "lambda", "src": x.src}
    if plain:
        return {"t": "other", "type": _type_name(x)}
    return {"t": "other", "type": _type_name(x), "repr": _describe_other(x)}


def _describe_other(x):
    """A few words about a value the format does not carry; only built-in types are asked for more."""
    t = type(x)
    if t is np.ndarray:
        return f"dtype {x.dtype}, shape {x.shape}"
    if t is complex:
        return repr(x)
    if t in (set, frozenset, bytes, bytearray, dict, range):
        return f"length {len(x)}"
    return ""


class Opaque:
    """A value of a type the format does not carry; it equals nothing."""

    def __init__(self, type_name, text):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return f"a {self.type_name}" + (f" ({self.text})" if self.text else "")


class Refused:
    """A value ``encode`` would not send: too large, too deeply nested, or unreadable."""

    def __init__(self, why, type_name):
        self.why, self.type_name = why, type_name

    def sentence(self):
        if self.why == "large":
            return (
                f"the result is too large (a {self.type_name} of more than {MAX_VALUE_BYTES >> 20} MiB is not checked)"
            )
        if self.why == "deep":
            return f"the result is nested too deeply (a {self.type_name} more than {_MAX_DEPTH} levels deep, or one that contains itself)"
        return f"the result (a {self.type_name}) could not be read"

    def __repr__(self):
        return f"a {self.type_name} that could not be sent"


def decode(d, resolve=None, depth=0, buffers=()):
    """Rebuild a value from ``encode``'s data, trusting nothing about it.

    ``resolve`` turns a ``Ref`` name into an object (used in the kernel); the
    grader passes ``None`` and gets ``Ref`` objects back. ``buffers`` are the
    message's frames an array may name. Malformed data raises ``ValueError``
    (and nothing else).
    """
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")  # a forged float16 may overflow: still data, not a warning
            return _decode(d, resolve, depth, buffers)
    except NameError:
        raise  # from resolve: a learner name that is not defined
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError, RecursionError) as e:
        raise ValueError("malformed probe data") from e


def _decode(d, resolve, depth, buffers=()):
    if depth > _MAX_DEPTH + 1 or type(d) is not dict:
        raise ValueError("malformed probe data")
    t = d.get("t")
    if t == "none":
        return None
    if t == "bool" and type(d.get("v")) is bool:
        return d["v"]
    if t == "int" and type(d.get("v")) is int:
        return d["v"]
    if t == "int" and _INT_TEXT.match(_str(d.get("s"))):
        return int(d["s"])
    if t == "float":
        return float.fromhex(_str(d.get("v")))
    if t == "npint" and type(d.get("v")) is int:
        return np.dtype(_dtype(d, "iu")).type(d["v"])
    if t == "npfloat":
        return np.dtype(_dtype(d, "f")).type(float.fromhex(_str(d.get("v"))))
    if t == "str" and "b64" in d:
        return base64.b64decode(_str(d["b64"]), validate=True).decode("utf-8", "surrogatepass")
    if t == "str":
        return _str(d.get("v"))
    if t in ("tuple", "list") and type(d.get("items")) is list:
        items = [_decode(v, resolve, depth + 1, buffers) for v in d["items"]]
        return tuple(items) if t == "tuple" else items
    if t == "dict" and type(d.get("items")) is dict:
        return {_str(k): _decode(v, resolve, depth + 1, buffers) for k, v in d["items"].items()}
    if t == "ndarray":
        dtype, shape = np.dtype(_dtype(d, "biuf")), d.get("shape")
        if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
            raise ValueError("malformed probe data")
        size = dtype.itemsize * _math.prod(shape)
        if "buf" in d:
            k = d["buf"]
            if type(k) is not int or not 0 <= k < len(buffers) or len(buffers[k]) != size:
                raise ValueError("malformed probe data")
            return np.frombuffer(buffers[k], dtype=dtype).reshape(shape).copy()
        data = _str(d.get("b64"))
        if len(data) != 4 * ((size + 2) // 3):  # checked before decoding anything
            raise ValueError("malformed probe data")
        buf = base64.b64decode(data, validate=True)
        if len(buf) != size:
            raise ValueError("malformed probe data")
        return np.frombuffer(buf, dtype=dtype).reshape(shape).copy()
    if t == "rng":
        gen = np.random.Generator(np.random.PCG64())
        gen.bit_generator.state = _decode(d.get("state"), None, depth + 1)
        return gen
    if t == "ref":
        name = _str(d.get("name"))
        return resolve(name) if resolve else Ref(name)
    if t == "lambda":
        return Lambda(_str(d.get("src")))
    if t == "other":
        return Opaque(_text(_str(d.get("type")), 120), _text(d.get("repr", "")))
    if t == "refused" and d.get("why") in ("large", "deep", "unreadable"):
        return Refused(d["why"], _text(_str(d.get("type")), 120))
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
    """A fingerprint of the call's inputs (functions and generators aside), to see whether the call changed them."""
    try:
        data = _encode(args, 0, [4 * MAX_VALUE_BYTES], True)
    except (_Refused, RecursionError):
        data = "refused"  # an input grown too large or made to contain itself: never what the test passed
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# -- running a case (in the learner's kernel) ---------------------------------


class _Given:
    """Bind trusted stand-ins in a learner function's globals for one call, and restore them after."""

    _MISSING = object()

    def __init__(self, fn, given):
        ns = fn.__globals__ if type(fn) is types.FunctionType and given else None
        self.ns, self.given = ns, given if ns is not None else {}

    def __enter__(self):
        self.saved = {name: self.ns.get(name, self._MISSING) for name in self.given} if self.given else {}
        for name, stand_in in self.given.items():
            self.ns[name] = stand_in

    def __exit__(self, *exc):
        for name, old in self.saved.items():
            if old is self._MISSING:
                self.ns.pop(name, None)
            else:
                self.ns[name] = old


def _learner(fn, args):
    """The learner's object a case is about: ``fn``, or a helper's first argument."""
    return args[0] if args and _is_helper(fn) else fn


def _module(x):
    try:
        m = getattr(x, "__module__", None)
    except Exception:
        return None
    return m if type(m) is str else None


def run_case(fn, args, kwargs, given=None, buffers=None):
    """Call ``fn(*args, **kwargs)`` (or take ``fn`` itself when ``args`` is None).

    ``given`` names are bound to stand-ins in the learner function's globals
    during the call. Returns the outcome as encoded data: the value or the
    exception, the warnings raised, the fingerprint of the inputs after the
    call and the modules that defined the learner's callables. Large arrays
    of the value go to ``buffers`` when it is a list (see ``encode``).
    """
    learner_objects = [fn, *(args or ())] if args is not None else []
    modules = [_module(x) for x in learner_objects if callable(x) and not _is_helper(x)]
    out = {"modules": [_text(m, 120) for m in modules if m is not None], "warnings": []}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
                if args is None:
                    value = fn
                else:
                    with _Given(_learner(fn, args), given or {}):
                        value = fn(*args, **kwargs)
        out["value"] = encode(value, buffers=buffers)
        out["warnings"] = [_text(f"{w.category.__name__}: {_safe_str(w.message)}") for w in caught[:5]]
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # SystemExit too: a learner's exit is just a failed call
        out["error"] = {
            "type": _text(type(e).__name__, 120),
            "mro": [_text(c.__name__, 120) for c in type(e).__mro__],
            "message": _text(_safe_str(e)),
        }
    out["args_digest"] = digest([args, kwargs])
    return out


def _safe_str(e):
    try:
        s = str(e)
    except BaseException:
        return "<unprintable>"
    return s if type(s) is str else "<unprintable>"


def probe(payload, nonce, namespace):
    """Grader mode: run the cases in ``payload`` (JSON) and display their outcomes as data.

    The record is a ``display_data`` message of type ``MIME``; its large
    arrays travel as the message's buffers (raw frames) when the kernel is
    ipykernel, which can send them, else as base64 in it.
    """
    from IPython import get_ipython

    def resolve(name):
        if name in _HELPERS:
            return _HELPERS[name]
        if name not in namespace:
            raise NameError(f"name '{name}' is not defined (did you run the cell that defines it?)")
        return namespace[name]

    kernel = getattr(get_ipython(), "kernel", None)
    buffers = [] if hasattr(kernel, "session") and hasattr(kernel, "iopub_socket") else None
    results = []
    for case in json.loads(payload):
        try:
            fn = decode(case["fn"], resolve)
            args = decode(case["args"], resolve)
            kwargs = decode(case["kwargs"], resolve)
            given = decode(case.get("given", {"t": "dict", "items": {}}), resolve)
        except NameError as e:
            results.append({"error": {"type": "NameError", "mro": ["NameError"], "message": _text(str(e))}})
            continue
        results.append(run_case(fn, args, kwargs, given, buffers))
    record = {MIME: {"nonce": nonce, "results": results}}
    if buffers:
        content = {"data": record, "metadata": {}, "transient": {}}
        kernel.session.send(
            kernel.iopub_socket,
            "display_data",
            content,
            parent=kernel.get_parent(),
            ident=b"display_data",
            buffers=buffers,
        )
    else:
        from IPython.display import display

        display(record, raw=True)


_HELPERS = {"value_grads": value_grads, "draws": draws}


def _is_helper(x):
    if type(x) is Ref:  # in the grader, a helper is still a name
        return x.name in _HELPERS
    return type(x) is Lambda or any(x is h for h in _HELPERS.values())


# -- judging an outcome (in the grader, or in the notebook) ------------------


REFERENCE_OK = False  # True only when the course's own tests run the cases against nnbasics itself


def _is_str_list(v):
    return type(v) is list and all(type(s) is str for s in v)


def _well_formed(outcome):
    """Whether an outcome has the shape ``run_case`` gives (any field may be forged; types are checked here)."""
    if type(outcome) is not dict or not _is_str_list(outcome.get("modules", [])):
        return False
    if not _is_str_list(outcome.get("warnings", [])) or type(outcome.get("args_digest", "")) is not str:
        return False
    error = outcome.get("error")
    if error is None:
        return "value" in outcome
    return (
        type(error) is dict
        and type(error.get("type")) is str
        and _is_str_list(error.get("mro", []))
        and type(error.get("message", "")) is str
    )


def judge(outcome, expect, rtol=1e-7, atol=0.0, args_digest=None, reference_ok=False, buffers=()):
    """Return ``None`` when ``outcome`` meets ``expect``, else why not (one sentence).

    ``buffers`` are the frames of the message the outcome came in. Never
    raises: a malformed or forged outcome fails closed.
    """
    try:
        if not _well_formed(outcome):
            return "the test's result was malformed"
        return _judge(outcome, expect, rtol, atol, args_digest, reference_ok, buffers)
    except Exception:
        return "the test's result could not be checked"


def _judge(outcome, expect, rtol, atol, args_digest, reference_ok, buffers):
    modules = outcome.get("modules", [])
    if not reference_ok and any(m.split(".")[0] == "nnbasics" for m in modules):
        return "it calls the nnbasics reference implementation, which is not allowed in an answer"
    error = outcome.get("error")
    if isinstance(expect, Raises):
        if error is None:
            return f"expected {expect!r} to be raised, but the call returned normally"
        message = _text(error.get("message", ""))
        if expect.exc not in (error.get("mro") or [error["type"]]):
            return f"expected {expect!r}, got {_text(error['type'], 120)}: {message}"
        if expect.match and not re.search(expect.match, message):
            return f"the {expect.exc} message should mention {expect.match!r}; got {message!r}"
        return None
    if error is not None:
        message = _text(error.get("message", ""))
        return f"raised {_text(error['type'], 120)}" + (f": {message}" if message else "")
    if outcome.get("warnings"):
        return f"emitted a warning ({_text(outcome['warnings'][0])}); a correct answer emits none"
    if args_digest is not None and outcome.get("args_digest") != args_digest:
        return "it changed its input arrays in place; compute a new array instead"
    try:
        got = decode(outcome["value"], buffers=buffers)
    except ValueError:
        return "its result could not be read back"
    return _compare(got, expect, rtol, atol)


def _describe(x):
    """A short description of a decoded value for a message (at most a few hundred characters)."""
    if isinstance(x, np.ndarray):
        body = np.array2string(x, threshold=8, precision=6, edgeitems=2) if x.size else "[]"
        return _text(f"array of shape {x.shape}, dtype {x.dtype}: {' '.join(body.split())}")  # on one line
    if type(x) is int and not -_SAFE_INT < x < _SAFE_INT:
        return f"an integer of about {int(x.bit_length() * _math.log10(2)) + 1} digits"
    if isinstance(x, float | np.floating):
        return f"{float(x)!r}"
    if isinstance(x, Opaque | Refused):
        return repr(x)
    return _text(repr(x))


def _as_float(x):
    """``float(x)``, with integers too large for a float as +-inf instead of an OverflowError."""
    try:
        return float(x)
    except OverflowError:
        return _math.inf if x > 0 else -_math.inf


def _is_real(x):
    return type(x) in (int, float) or (isinstance(x, np.number) and not isinstance(x, np.complexfloating))


def _compare(got, want, rtol, atol, where=""):
    at = f" (at {where})" if where else ""
    if isinstance(got, Refused):
        return got.sentence() + at
    if isinstance(want, Choice):
        if type(got) is not str or _norm(got) not in want.options:
            return f"{_describe(got)} is not right"
        return None
    if isinstance(want, Draws):
        return _draws(got, want)
    if isinstance(want, Shape | Sample):
        if type(got) is not np.ndarray:
            return f"expected {want!r}{at}, got {_describe(got)}"
        if got.shape != want.shape:
            return f"expected shape {want.shape}{at}, got {got.shape}"
        if want.dtype and got.dtype != np.dtype(want.dtype):
            return f"expected dtype {want.dtype}{at}, got {got.dtype}"
        if got.dtype.kind == "f" and not np.isfinite(got).all():
            return f"expected finite values{at}, got {_describe(got)}"
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
        bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=False)  # NaN is never within tolerance
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
        if not np.isclose(_as_float(got), float(want), rtol=rtol, atol=atol, equal_nan=False):
            return f"expected {float(want)!r}{at}, got {_describe(got)}"
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
            return _text(
                f"expected a dict with keys {sorted(want)}{at}, got {keys if keys is not None else _describe(got)}"
            )
        for k in want:
            why = _compare(got[k], want[k], rtol, atol, f"{where}[{k!r}]")
            if why:
                return why
        return None
    if type(got) is not type(want) or got != want:
        return f"expected {want!r}{at}, got {_describe(got)}"
    return None


def _ks_gap(x, want):
    """The largest gap between the sample's CDF and the expected one, over a grid of 161 points."""
    if want.dist == "normal":
        grid = want.mean + want.std * np.linspace(-4.0, 4.0, 161)
        expected = np.array([0.5 * (1 + _math.erf((g - want.mean) / (want.std * _math.sqrt(2)))) for g in grid])
    else:
        grid = np.linspace(want.low, want.high, 161)
        expected = (grid - want.low) / (want.high - want.low)
    below = points_below(grid, x.ravel())
    seen = np.cumsum(np.bincount(below, minlength=grid.size + 1))[: grid.size] / x.size  # share of values <= each point
    return float(np.abs(seen - expected).max())


def points_below(grid, x):
    """For each value of ``x``, how many points of the evenly spaced ``grid`` lie below it.

    The same as ``np.searchsorted(grid, x)``, twice as fast (its binary
    search took 5 ms per 131,072 values here, this 2.4 ms): the count is read
    off the spacing, then moved by one where rounding put a value on the
    wrong side of a point. The search itself answers when that does not
    settle it.
    """
    n = grid.size
    if not grid[-1] > grid[0]:
        return np.searchsorted(grid, x, side="left")

    def too_few(below):  # the point at ``below`` lies below the value too
        return (below < n) & (grid[np.minimum(below, n - 1)] < x)

    def too_many(below):  # the last point counted does not lie below the value
        return (below > 0) & (grid[np.maximum(below - 1, 0)] >= x)

    with np.errstate(all="ignore"):  # a value far outside the grid gives inf, clipped to 0 or n
        below = np.clip(np.ceil((x - grid[0]) * ((n - 1) / (grid[-1] - grid[0]))), 0, n).astype(np.intp)
    below += too_few(below)
    below -= too_many(below)
    if too_few(below).any() or too_many(below).any():
        return np.searchsorted(grid, x, side="left")
    return below


def _sample(got, want):
    slack = 4 * np.finfo(np.float64).eps  # a bound computed in another order may differ in its last bits
    if (want.low is not None and got.min() < want.low - slack * abs(want.low)) or (
        want.high is not None and got.max() > want.high + slack * abs(want.high)
    ):
        return f"expected every value in [{want.low}, {want.high}], got values in [{got.min():.6g}, {got.max():.6g}]"
    if want.mean is not None and abs(got.mean() - want.mean) > want.mean_atol:
        return f"expected a mean near {want.mean}, got {got.mean():.6g}"
    if want.std is not None and abs(got.std() / want.std - 1) > want.std_rtol:
        return f"expected a standard deviation near {want.std:.6g}, got {got.std():.6g}"
    if want.dist in ("normal", "uniform"):
        eps = _math.sqrt(_math.log(2 / 1e-9) / (2 * got.size))  # DKW: a correct sample exceeds it with p <= 1e-9
        gap = _ks_gap(got, want)
        if gap > eps:
            return f"the values do not follow a {want.dist} distribution (their CDF is {gap:.3f} away from it, at most {eps:.3f} expected)"
    return None


def _draws(got, want):
    n = len(want.seeds)
    if type(got) not in (tuple, list) or len(got) != n:
        return f"expected {want!r}, got {_describe(got)}"
    for k, g in enumerate(got):
        why = _compare(g, Shape(want.shape, want.dtype), 0.0, 0.0, f"call {k + 1}")
        if why:
            return why
    for i in range(n):
        for j in range(i + 1, n):
            a, b = want.seeds[i], want.seeds[j]
            equal = np.array_equal(got[i], got[j])
            if a is not None and a == b and not equal:
                return f"two calls with the same seed ({a}) gave different arrays: draw every random number from rng"
            if a != b and equal:
                return f"seeds {a} and {b} gave the same array: the rng argument is not used"
            if a is None and b is None and equal:
                return "two calls with rng=None gave the same array: create np.random.default_rng() (unseeded) when rng is None"
    return None


# -- the helper test cells call ------------------------------------------------


def check(fn, args=None, kwargs=None, *, expect, rtol=1e-7, atol=0.0, msg="", given=None):
    """Run one test case now and raise ``AssertionError`` with a hint if it fails.

    ``fn(*args, **kwargs)`` is called (``fn`` itself is checked when ``args``
    is None) and its result compared with ``expect``; the inputs must be left
    unchanged and no warning may be raised. ``given`` maps names to trusted
    stand-ins bound in ``fn``'s globals during the call.
    """
    args = None if args is None else tuple(args)
    kwargs = dict(kwargs or {})
    before = digest([args, kwargs])
    outcome = json.loads(json.dumps(run_case(fn, args, kwargs, dict(given or {}))))
    why = judge(outcome, expect, rtol, atol, before, REFERENCE_OK)
    if why:
        raise AssertionError(failure(fn, args, why, msg))


def failure(fn, args, why, msg):
    """The message of a failed case: whose answer, what went wrong, and the hint (valid UTF-8, bounded)."""
    if args is None:  # a value (a quiz answer), not a call
        return _text(f"your answer: {why}. {msg}".strip(), 2000)
    learner = _learner(fn, args)
    try:
        name = learner.name if type(learner) is Ref else getattr(learner, "__name__", "your function")
    except Exception:
        name = "your function"
    return _text(f"{_text(name, 120)}: {why}. {msg}".strip(), 2000)
