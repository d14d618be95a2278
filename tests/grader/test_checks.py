"""Unit tests of the trust boundary: ``checks.encode`` / ``decode`` / ``judge`` (and ``check``, ``run_case``).

No kernel is needed: these are the functions the kernel and the grader run
on each side of the JSON records (CONTRIBUTING.md, "tests are data"). Every
expectation kind is judged on right and wrong results; hostile results (NaN,
inf, ndarray subclasses, objects equal to everything, huge, deep and
self-containing values, lone surrogates, odd types) fail their case with one
sentence and break nothing; forged records never decode to anything but
``ValueError`` and never pass the judge by accident.
"""

import json
import math
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from nnbasics.grading import checks, steps
from nnbasics.grading.checks import Choice, Draws, Lambda, Raises, Sample, Shape

# -- helpers ------------------------------------------------------------------------------------


def wire(record):
    """A record as it crosses the wire: JSON as jupyter_client packs it (UTF-8, no NaN), read back."""
    packed = json.dumps(record, ensure_ascii=False, allow_nan=False).encode("utf-8")
    return json.loads(packed)


def outcome_of(value):
    """The outcome ``run_case`` gives for a call that returned ``value``, after the wire."""
    return wire(checks.run_case(lambda: value, (), {}))


def verdict(value, expect, **kw):
    return checks.judge(outcome_of(value), expect, **kw)


def failure_of(fn, args=(), **kw):
    """The AssertionError message ``check`` raises (it must raise one)."""
    with pytest.raises(AssertionError) as e:
        checks.check(fn, args=args, **kw)
    message = str(e.value)
    assert "\n" not in message and len(message) < 2100, message  # one bounded line
    message.encode("utf-8")  # valid UTF-8, whatever the learner returned
    return message


def same(a, b):
    """Equal in type, dtype, shape and bits (NaN equal to itself), recursively; np.bool_ travels as bool."""
    b = bool(b) if type(b) is np.bool_ else b
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float | np.floating):
        return np.dtype(type(a)) == np.dtype(type(b)) and (a == b or (math.isnan(a) and math.isnan(b)))
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


# -- the format: exact round trips --------------------------------------------------------------

DTYPES = ["<f8", "<f4", "<f2", ">f8", "<i8", "<i4", "|i1", "<u2", "|u1", "|b1"]
texts = st.text(alphabet=st.characters(blacklist_categories=()), max_size=20)  # lone surrogates included
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**600), max_value=10**600)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
    | st.sampled_from([np.float32(1.5), np.float64(-0.0), np.int64(-7), np.uint8(255), np.float16(np.inf), np.bool_(1)])
    | arrays(st.sampled_from(DTYPES), array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_encode_decode_round_trips_exactly(x):
    assert same(checks.decode(wire(checks.encode(x))), x)


BIG = [
    np.random.default_rng(0).normal(size=(256, 512)),  # a 03_initialization sample, 1 MiB
    np.arange(20_000, dtype=">f8"),  # not the machine's byte order
    np.asfortranarray(np.ones((300, 60), "<i4")),  # not C-ordered
    np.zeros((400, 400), bool)[:, ::2],  # a view with strides
    np.full(checks.BUFFER_BYTES, 7, "|u1"),  # exactly the threshold
]


@settings(max_examples=100, deadline=None)
@given(values, st.lists(st.sampled_from(range(len(BIG))), max_size=3))
def test_arrays_sent_as_buffers_round_trip_as_the_base64_ones_do(x, big):
    value = [x, *(BIG[k] for k in big)]
    buffers = []
    record = wire(checks.encode(value, buffers=buffers))
    inline = wire(checks.encode(value))
    if record["t"] == "refused":  # over the budget (three samples are 4 MiB as base64): refused both ways
        assert inline == record and buffers == []
        return
    assert len(buffers) == len(big) and all(type(b) is bytes for b in buffers)
    assert same(checks.decode(record, buffers=buffers), value)
    assert same(checks.decode(inline), value)
    assert len(json.dumps(record)) < 1000 + len(json.dumps(wire(checks.encode(x))))  # the large arrays are not in it


def test_small_arrays_and_refused_values_leave_no_buffer():
    buffers = []
    assert "b64" in checks.encode(np.zeros(checks.BUFFER_BYTES // 8 - 1), buffers=buffers) and buffers == []
    # the first array fits, the string does not: the whole value is refused and nothing is left to send
    refused = checks.encode([np.zeros(20_000), "x" * (5 << 20)], buffers=buffers)
    assert refused == {"t": "refused", "why": "large", "type": "list"} and buffers == []
    kept = checks.encode(np.ones(10_000), buffers=buffers)
    assert kept["buf"] == 0 and len(buffers) == 1


@pytest.mark.parametrize(
    "ref, frames",
    [
        (True, [bytes(80)]),  # a bool is not an index
        (-1, [bytes(80)]),
        (1, [bytes(80)]),  # past the frames
        (0, []),
        (0, [bytes(79)]),  # one byte short of (10,) float64
        (0, [bytes(88)]),
        ("0", [bytes(80)]),
        (0.0, [bytes(80)]),
    ],
)
def test_a_forged_buffer_reference_is_malformed(ref, frames):
    record = {"t": "ndarray", "dtype": "<f8", "shape": [10], "buf": ref}
    with pytest.raises(ValueError, match="malformed probe data"):
        checks.decode(record, buffers=frames)
    outcome = {"modules": [], "warnings": [], "args_digest": "", "value": record}
    assert checks.judge(outcome, np.zeros(10), buffers=frames) == "its result could not be read back"
    assert checks.judge(outcome | {"value": record | {"buf": 0}}, np.zeros(10), buffers=[bytes(80)]) is None


def test_round_trip_keeps_what_a_comparison_needs():
    for x in (10**400, -(10**400), "\ud83d", "a\udc80b", np.float32(np.nan), np.array([np.inf, -0.0], ">f8")):
        assert same(checks.decode(wire(checks.encode(x))), x)
    assert checks.decode(wire(checks.encode((1, [2.5], {"k": None})))) == (1, [2.5], {"k": None})


def test_a_lone_surrogate_never_reaches_the_wire_as_text():
    record = checks.run_case(lambda: "\ud83d", (), {})
    json.dumps(record, ensure_ascii=False).encode("utf-8")  # jupyter_client's packing: fails on a lone surrogate
    bad = ValueError("broken \ud83d text")
    record = checks.run_case(lambda: (_ for _ in ()).throw(bad), (), {})
    json.dumps(record, ensure_ascii=False).encode("utf-8")
    assert "\\ud83d" in record["error"]["message"]


# -- every expectation kind, right and wrong ------------------------------------------------------


def test_float_values_within_tolerance_only():
    assert verdict(0.5, 0.5) is None
    assert verdict(np.float32(0.5), 0.5) is None
    assert verdict(np.array(0.5), 0.5) is None  # a 0-d array is a number
    assert verdict(0.5 + 1e-9, 0.5, rtol=1e-7) is None
    assert "expected 0.5, got 0.6" in verdict(0.6, 0.5)
    assert verdict(1.0 + 1e-6, 1.0, rtol=1e-7) is not None
    assert verdict(1e-10, 0.0, atol=1e-9) is None and verdict(1e-8, 0.0, atol=1e-9) is not None
    assert "expected a number close to 0.5" in verdict("0.5", 0.5)
    assert verdict(True, 1.0) is not None  # a bool is not a number here


def test_ints_bools_strings_none():
    assert verdict(3, 3) is None and verdict(np.int64(3), 3) is None
    assert "expected the integer 3, got 3.0" in verdict(3.0, 3)
    assert verdict(True, True) is None and verdict(1, True) is not None
    assert verdict("a", "a") is None and verdict("b", "a") is not None
    assert verdict(None, None) is None and verdict(0, None) is not None


def test_arrays_by_shape_dtype_and_value():
    want = np.array([1.0, 2.0])
    assert verdict(np.array([1.0, 2.0]), want) is None
    assert "expected shape (2,), got (1, 2)" in verdict(np.array([[1.0, 2.0]]), want)
    assert "expected dtype float64, got float32" in verdict(want.astype(np.float32), want)
    assert "first difference at index (1,)" in verdict(np.array([1.0, 2.1]), want)
    assert "expected a numpy array" in verdict([1.0, 2.0], want)
    assert "expected an integer array" in verdict(np.array([1.0]), np.array([1]))
    assert "expected a boolean array" in verdict(np.array([1]), np.array([True]))
    assert verdict(np.array([1], np.int32), np.array([1])) is None  # any integer dtype for an integer want


def test_raises():
    def boom():
        raise KeyError("nope")

    outcome = wire(checks.run_case(boom, (), {}))
    assert checks.judge(outcome, Raises("KeyError")) is None
    assert checks.judge(outcome, Raises("LookupError")) is None  # a subclass counts, as with except
    assert "expected a ValueError, got KeyError" in checks.judge(outcome, Raises("ValueError"))
    assert checks.judge(outcome, Raises("KeyError", match="nope")) is None
    assert "should mention 'yes'" in checks.judge(outcome, Raises("KeyError", match="yes"))
    assert "returned normally" in verdict(1.0, Raises("ValueError"))
    assert "raised KeyError: 'nope'" in checks.judge(outcome, 1.0)


def test_shape():
    assert verdict(np.zeros((2, 3)), Shape((2, 3), "float64")) is None
    assert verdict(np.zeros((2, 3), np.float32), Shape((2, 3))) is None  # no dtype asked
    assert "expected shape (2, 3), got (3, 2)" in verdict(np.zeros((3, 2)), Shape((2, 3)))
    assert "expected dtype float64, got float32" in verdict(np.zeros((2, 3), np.float32), Shape((2, 3), "float64"))
    assert "expected an array of shape (2, 3)" in verdict([[0.0] * 3] * 2, Shape((2, 3)))


def _uniform(a, n=(256, 512), seed=0):
    return np.random.default_rng(seed).uniform(-a, a, size=n)


def test_sample_statistics_and_bounds():
    n, a = 256 * 512, 0.1
    want = Sample((256, 512), 0.0, a / math.sqrt(3), -a, a, mean_atol=6 * a / math.sqrt(3 * n), std_rtol=0.01)
    assert verdict(_uniform(a), want) is None
    assert "expected every value in [-0.1, 0.1]" in verdict(_uniform(1.1 * a), want)
    assert "expected a mean near 0.0" in verdict(_uniform(a) + 0.01, Sample((256, 512), mean=0.0, mean_atol=1e-3))
    assert "standard deviation" in verdict(0.5 * _uniform(a), Sample((256, 512), std=a / math.sqrt(3), std_rtol=0.01))


def test_sample_distribution_tells_normal_from_uniform_and_truncated():
    """Any correct way of drawing passes; a uniform or a truncated normal of the right std does not."""
    std, shape = 0.05, (256, 512)
    normal = Sample(shape, mean=0.0, std=std, mean_atol=1.0, std_rtol=1.0, dist="normal")
    for seed in range(20):
        rng = np.random.default_rng(seed)
        assert verdict(rng.normal(0.0, std, size=shape), normal) is None
        assert verdict(std * rng.standard_normal(shape), normal) is None
        u1, u2 = rng.random(shape), rng.random(shape)  # Box-Muller: another correct normal
        assert verdict(std * np.sqrt(-2 * np.log1p(-u1)) * np.cos(2 * np.pi * u2), normal) is None
    rng = np.random.default_rng(0)
    uniform = rng.uniform(-std * math.sqrt(3), std * math.sqrt(3), size=shape)
    assert "do not follow a normal distribution" in verdict(uniform, normal)
    s = std / 0.87962566103423978  # Keras' truncated normal: cut at 2 s, the std is right again
    cut = rng.normal(0.0, s, size=4 * 256 * 512)
    truncated = cut[np.abs(cut) < 2 * s][: 256 * 512].reshape(shape)
    assert abs(truncated.std() / std - 1) < 0.01
    assert "do not follow a normal distribution" in verdict(truncated, normal)
    flat = Sample(shape, low=-0.1, high=0.1, dist="uniform")
    assert verdict(_uniform(0.1), flat) is None
    assert "do not follow a uniform distribution" in verdict(np.clip(rng.normal(0, 0.05, shape), -0.1, 0.1), flat)


GRIDS = [  # the two grids _ks_gap compares CDFs on: 8 standard deviations around the mean, and [low, high]
    (lambda mean, std: mean + std * np.linspace(-4.0, 4.0, 161)),
    (lambda low, width: np.linspace(low, low + width, 161)),
]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(GRIDS),
    st.floats(-1e3, 1e3),
    st.floats(1e-6, 1e3),
    st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=50),
    st.lists(st.integers(0, 160), max_size=20),
    st.integers(-3, 3),
)
def test_points_below_counts_as_a_binary_search_does(grid_of, a, b, values, at, ulps):
    """np.searchsorted is the definition; values on grid points and a few ulps beside them included."""
    grid = grid_of(a, b)
    on = grid[at] if at else np.empty(0)
    for _ in range(abs(ulps)):  # step off the grid points by whole ulps
        on = np.nextafter(on, np.inf if ulps > 0 else -np.inf)
    x = np.concatenate(
        [np.array(values, dtype=np.float64), on, grid[0] + (grid[-1] - grid[0]) * np.linspace(-1, 2, 301)]
    )
    np.testing.assert_array_equal(checks.points_below(grid, x), np.searchsorted(grid, x, side="left"))


def test_points_below_on_grids_too_fine_for_arithmetic():
    """Points a few ulps apart (some equal) and a grid of one value: the count is still the binary search's."""
    for grid in (1e3 + 1e-14 * np.linspace(-4, 4, 161), np.full(161, 2.0)):
        x = np.concatenate([grid, np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf), [-1.0, 1e300]])
        np.testing.assert_array_equal(checks.points_below(grid, x), np.searchsorted(grid, x, side="left"))


def test_draws():
    seeds = (7, 7, 8, None, None)
    want = Draws((2, 3), seeds)

    def draw(rng=None):
        return (rng or np.random.default_rng()).normal(size=(2, 3))

    assert checks.judge(wire(checks.run_case(checks.draws, (draw, (), {}, seeds), {})), want) is None
    fixed = np.ones((2, 3))
    assert "seeds 7 and 8 gave the same array" in verdict((fixed, fixed, fixed, 2 * fixed, fixed), want)
    a, b = np.zeros((2, 3)), np.ones((2, 3))
    assert "same seed (7) gave different arrays" in verdict((a, b, a, a, b), want)
    assert "rng=None gave the same array" in verdict((a, a, b, 2 * b, 2 * b), want)
    assert "expected shape (2, 3)" in verdict((a, a, b, 2 * b, np.zeros(3)), want)
    assert "expected 5 arrays" in verdict(a, want)


def test_choice():
    assert verdict(" B ", Choice("b")) is None
    assert "'c' is not right" in verdict("c", Choice("a", "b"))
    assert "is not right" in verdict(2, Choice("b"))


def test_tuples_and_dicts():
    want = (1.0, {"W": np.zeros(2), "b": Shape((1,))})
    assert verdict((1.0, {"W": np.zeros(2), "b": np.zeros(1)}), want) is None
    assert verdict([1.0, {"W": np.zeros(2), "b": np.zeros(1)}], want) is None  # a list is fine for a tuple
    assert "(at [1]['W'])" in verdict((1.0, {"W": np.ones(2), "b": np.zeros(1)}), want)
    assert "expected a dict with keys ['W', 'b'] (at [1]), got ['W']" in verdict((1.0, {"W": np.zeros(2)}), want)
    assert "expected a tuple of 2 values" in verdict((1.0,), want)


# -- NaN and inf are never within tolerance --------------------------------------------------------

FLOAT_EXPECTATIONS = [
    (lambda v: v, 0.5),
    (lambda v: np.full(3, v), np.full(3, 0.5)),
    (lambda v: np.full((2, 3), v), Shape((2, 3), "float64")),
    (lambda v: np.full((200, 200), v), Sample((200, 200), mean=0.0, std=1.0, mean_atol=10, std_rtol=10)),
    (lambda v: np.full((200, 200), v), Sample((200, 200), low=-1e308, high=1e308)),
    (lambda v: (np.full((2,), v),) * 5, Draws((2,), (1, 1, 2, None, None))),
    (lambda v: (1.0, {"W": np.full(2, v)}), (1.0, {"W": np.zeros(2)})),
    (lambda v: (1.0, {"W": np.full(2, v)}), (1.0, {"W": Shape((2,))})),
]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(("make", "want"), FLOAT_EXPECTATIONS)
def test_nan_and_inf_fail_every_float_expectation(make, want, bad):
    assert verdict(make(bad), want) is not None
    assert verdict(np.float32(bad), 0.5) is not None
    again = verdict(np.full(3, bad), np.full(3, bad))
    if math.isnan(bad):
        assert again is not None, "a NaN result passed as close to an expected NaN"  # NaN is never within tolerance
    else:
        assert again is None, again  # inf is inf


def test_nan_from_the_random_initialisers_scores_nothing():
    """Issue 12: np.full(shape, np.nan) passed every Sample check of the four initialisers."""
    n = 256 * 512
    std = math.sqrt(2 / 768)
    want = Sample((256, 512), mean=0.0, std=std, mean_atol=6 * std / math.sqrt(n), std_rtol=6 / math.sqrt(2 * n))
    assert "expected finite values" in verdict(np.full((256, 512), np.nan), want)


# -- hostile and odd results: one sentence for that case, nothing broken ---------------------------


class AlwaysEqual:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __repr__(self):
        raise RuntimeError("a repr that raises")

    def __getattr__(self, name):
        raise RuntimeError("an attribute that raises")


class EqualArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, bool)

    __hash__ = None


def _recursive():
    x = []
    x.append(x)
    return x


ODDITIES = [
    ("a big int", lambda: 10**400, 0.5, "an integer of about 401 digits"),
    ("a huger int", lambda: 10**5000, 5, "the result is too large"),
    ("a lone surrogate", lambda: "\ud83d", Choice("a"), "'\\ud83d' is not right"),
    ("a generator", lambda: (i for i in range(3)), np.zeros(3), "got a generator"),
    ("an instance", AlwaysEqual, 0.5, "AlwaysEqual"),
    ("an always-equal ndarray", lambda: np.zeros(3).view(EqualArray), np.ones(3), "EqualArray"),
    ("a masked array", lambda: np.ma.masked_array(np.ones(3)), np.ones(3), "numpy.ma.MaskedArray"),
    ("a recursive list", _recursive, [1.0], "nested too deeply"),
    ("a deep list", lambda: [[[[[[[[[[[[[[[[[[[1.0]]]]]]]]]]]]]]]]]]], [1.0], "nested too deeply"),
    ("a huge nested list", lambda: [[0.0] * 1000] * 1000, [0.0], "the result is too large"),
    ("a 30 MB string", lambda: "x" * (30 << 20), Choice("a"), "the result is too large (a str of more than 4 MiB"),
    ("a complex array", lambda: np.ones(2, complex), np.ones(2), "dtype complex128"),
    ("an object array", lambda: np.array([None, 1], dtype=object), np.ones(1), "dtype object"),
    ("a float subclass", lambda: type("F", (float,), {"__eq__": lambda s, o: True})(0.1), 0.5, "got a "),
    ("bytes", lambda: b"abc", "abc", "got a bytes (length 3)"),
]


@pytest.mark.parametrize(("what", "make", "want", "words"), ODDITIES, ids=[o[0] for o in ODDITIES])
def test_odd_results_fail_their_case_with_one_sentence(what, make, want, words):
    message = failure_of(make, expect=want, msg="the hint")
    assert words in message and message.endswith("the hint"), message


def test_a_500_mb_array_is_refused_without_being_copied():
    huge = np.broadcast_to(np.zeros(1), (500 << 20) // 8)  # 500 MB as far as nbytes goes, no memory behind it
    tracemalloc.start()
    record = checks.encode(huge)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert record == {"t": "refused", "why": "large", "type": "numpy.ndarray"}
    assert peak < 1 << 20
    assert "the result is too large" in verdict(huge, np.zeros(3))


def test_encode_never_exceeds_its_budget():
    for x in ("x" * (5 << 20), [1] * (1 << 20), {str(k): k for k in range(300_000)}, np.zeros(600_000)):
        assert len(json.dumps(checks.encode(x))) < 200
    assert len(json.dumps(checks.encode(np.zeros(100_000)))) < checks.MAX_VALUE_BYTES


def test_a_hostile_exception_or_warning_is_reported_in_one_sentence():
    class Loud(Exception):
        def __str__(self):
            return "x" * 100_000

    def shout():
        raise Loud()

    message = failure_of(shout, expect=1.0)
    assert "raised Loud: xxx" in message and len(message) < 600

    def warn():
        import warnings

        warnings.warn("careful \ud83d", RuntimeWarning, stacklevel=1)
        return 1.0

    assert "emitted a warning (RuntimeWarning: careful \\ud83d)" in failure_of(warn, expect=1.0)


def test_changed_inputs_are_caught_even_when_made_recursive():
    def grow(d):
        d["me"] = d
        return 1.0

    assert "changed its input arrays in place" in failure_of(grow, args=({"a": 1},), expect=1.0)

    def scale(x):
        x *= 2
        return 1.0

    assert "changed its input arrays in place" in failure_of(scale, args=(np.ones(3),), expect=1.0)


# -- forged and malformed records -------------------------------------------------------------------

FORGED = [
    "not a dict",
    {},
    {"t": "bogus"},
    {"t": "int", "v": 1.5},
    {"t": "int", "s": "12a"},
    {"t": "int", "s": "9" * 5000},
    {"t": "bool", "v": 1},
    {"t": "float", "v": "not hex"},
    {"t": "float", "v": 1.0},
    {"t": "npint", "dtype": "|i1", "v": 1000},
    {"t": "npint", "dtype": "<f8", "v": 1},
    {"t": "npfloat", "dtype": "<c16", "v": "0x1p+0"},
    {"t": "str", "v": 3},
    {"t": "str", "b64": "!!!"},
    {"t": "str", "b64": "/w=="},  # not UTF-8
    {"t": "list", "items": "abc"},
    {"t": "dict", "items": [1, 2]},
    {"t": "ndarray", "dtype": "<f8", "shape": [2], "b64": "AAAA"},
    {"t": "ndarray", "dtype": "|O", "shape": [1], "b64": ""},
    {"t": "ndarray", "dtype": "<f8", "shape": [-1], "b64": ""},
    {"t": "ndarray", "dtype": "<f8", "shape": [2**62, 2**62], "b64": ""},
    {"t": "ndarray", "dtype": "<f8", "shape": [1] * 40, "b64": "AAAAAAAAAAA="},
    {"t": "ndarray", "dtype": "<f8", "shape": "2", "b64": ""},
    {"t": "rng", "state": {"t": "dict", "items": {}}},
    {"t": "refused", "why": "because"},
    {"t": "other", "type": 5},
]


@pytest.mark.parametrize("record", FORGED, ids=[str(r)[:40] for r in FORGED])
def test_decode_refuses_malformed_data_with_value_error(record):
    with pytest.raises(ValueError, match="malformed probe data"):
        checks.decode(record)


def test_decode_refuses_data_nested_without_end():
    record = {"t": "list", "items": []}
    for _ in range(10_000):
        record = {"t": "list", "items": [record]}
    with pytest.raises(ValueError):
        checks.decode(record)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25,
)
records = st.recursive(
    st.fixed_dictionaries(
        {"t": st.sampled_from(["none", "bool", "int", "float", "npint", "npfloat", "str", "ndarray", "other"])},
        optional={"v": json_values, "s": st.text(max_size=8), "dtype": st.sampled_from([*DTYPES, "<c8", "x"]),
                  "shape": json_values, "b64": st.text(max_size=12), "type": json_values},
    ),
    lambda inner: st.fixed_dictionaries({"t": st.sampled_from(["list", "tuple", "dict"]), "items": st.lists(inner)})
    | st.fixed_dictionaries({"t": st.just("dict"), "items": st.dictionaries(st.text(max_size=4), inner)}),
    max_leaves=10,
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.one_of(records, json_values))
def test_decode_of_anything_is_a_value_or_a_value_error(record):
    try:
        checks.decode(record)
    except ValueError:
        pass


outcomes = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={"value": st.one_of(records, json_values), "error": json_values, "warnings": json_values,
                  "modules": json_values, "args_digest": json_values},
    ),
)  # fmt: skip
expectations = st.sampled_from(
    [0.5, 3, True, "a", None, np.zeros(2), Raises("ValueError"), Shape((2,)), Sample((2,), mean=0.0, mean_atol=1.0),
     Draws((2,), (1, 1, 2)), Choice("a"), (1.0, {"W": np.zeros(1)})]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(outcomes, expectations)
def test_judge_never_raises_and_answers_in_one_sentence(outcome, expect):
    why = checks.judge(outcome, expect, args_digest=checks.digest([(), {}]))
    assert why is None or (type(why) is str and "\n" not in why)


FORGED_OUTCOMES = [
    "a string",
    {"error": "a string"},
    {"error": {"type": 3}},
    {"error": {"type": "ValueError", "mro": "ValueError"}},
    {"warnings": "a string", "value": {"t": "none"}},
    {"modules": [1], "value": {"t": "none"}},
    {"args_digest": 5, "value": {"t": "none"}},
    {"no": "value"},
    {"value": {"t": "float", "v": "garbage"}},
]


@pytest.mark.parametrize("outcome", FORGED_OUTCOMES, ids=[str(o)[:40] for o in FORGED_OUTCOMES])
@pytest.mark.parametrize("expect", [None, 0.5, Raises("ValueError"), Choice("a")])
def test_forged_outcomes_fail_closed(outcome, expect):
    assert checks.judge(outcome, expect) is not None


def test_a_value_error_cannot_be_forged_from_a_non_error():
    assert checks.judge({"error": {"type": "ValueError", "mro": 7}}, Raises("ValueError")) is not None


def test_the_reference_implementation_is_refused():
    import nnbasics

    outcome = wire(checks.run_case(nnbasics.sigmoid, (0.0,), {}))
    assert "nnbasics reference implementation" in checks.judge(outcome, 0.5)
    assert checks.judge(outcome, 0.5, reference_ok=True) is None


# -- given: trusted stand-ins for the functions a learner's function calls -----------------------


def _learner_namespace():
    ns = {"np": np}
    exec(
        "def sigmoid(z):\n    return 0.0  # wrong\n\ndef neuron(x):\n    return sigmoid(x) + undefined_helper(x)\n",
        ns,
    )
    return ns


def test_given_binds_stand_ins_for_the_call_and_restores_them():
    ns = _learner_namespace()
    wrong = ns["sigmoid"]
    stand_ins = {"sigmoid": Lambda("lambda z: 1 / (1 + np.exp(-z))"), "undefined_helper": Lambda("lambda z: 0.0")}
    assert checks.judge(wire(checks.run_case(ns["neuron"], (0.0,), {}, stand_ins)), 0.5) is None
    assert ns["sigmoid"] is wrong and "undefined_helper" not in ns  # restored, and the missing name removed
    assert "NameError" in checks.judge(wire(checks.run_case(ns["neuron"], (0.0,), {})), 0.5)
    checks.check(ns["neuron"], args=(0.0,), expect=0.5, given=stand_ins)  # the in-notebook path


def test_given_is_restored_when_the_call_raises():
    ns = _learner_namespace()
    wrong = ns["sigmoid"]
    outcome = checks.run_case(ns["neuron"], (0.0,), {}, {"sigmoid": Lambda("lambda z: 1 / 0")})
    assert outcome["error"]["type"] == "ZeroDivisionError" and ns["sigmoid"] is wrong


def test_given_applies_to_a_helper_s_learner_function():
    ns = {"np": np}
    exec("def init(shape, rng=None):\n    return fans(shape)[0] * rng.normal(size=shape)\n", ns)
    stand_in = {"fans": Lambda("lambda shape: (shape[1], shape[0])")}
    outcome = wire(checks.run_case(checks.draws, (ns["init"], ((2, 3),), {}, (1, 1, 2)), {}, stand_in))
    assert checks.judge(outcome, Draws((2, 3), (1, 1, 2))) is None and "fans" not in ns


def test_given_survives_the_grader_s_probe(monkeypatch):
    """record_cases keeps given= and probe_source sends it: the probe binds it in the kernel."""
    cases = steps.record_cases(
        'check(neuron, args=(0.0,), expect=0.5, given={"sigmoid": Lambda("lambda z: 1 / (1 + np.exp(-z))"), '
        '"undefined_helper": Lambda("lambda z: 0.0")}, msg="m")'
    )
    assert set(cases[0].given) == {"sigmoid", "undefined_helper"}
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw: shown.append(obj))
    ns = _learner_namespace()
    # what the kernel compiled at boot (kernel_boot.py)
    monkeypatch.setattr(
        sys,
        "_nnbasics_checks",
        compile(Path(checks.__file__).read_text("utf-8"), "nnbasics-checks", "exec"),
        raising=False,
    )
    exec(steps.probe_source(cases, "n0nce"), ns)
    (record,) = shown
    outcome = wire(record[checks.MIME])["results"][0]
    assert checks.judge(outcome, cases[0].expect, args_digest=checks.digest([cases[0].args, cases[0].kwargs])) is None
    assert "undefined_helper" not in ns


# -- the helpers cell says what it needs --------------------------------------------------------------


def test_missing_numpy_is_one_sentence_in_ipython():
    error = checks.MissingRequirement(checks.NEEDS)
    assert error._render_traceback_() == [checks.NEEDS]  # IPython shows these lines instead of a traceback
    assert "Python 3.10" in checks.NEEDS and "pip install numpy" in checks.NEEDS and "Colab" in checks.NEEDS
