import math

import numpy as np
import pytest

from nnbasics import init

# torch 2.13.0: torch.nn.init.calculate_gain(name) and calculate_gain("leaky_relu", param)
GAINS = {
    "linear": 1,
    "conv1d": 1,
    "conv2d": 1,
    "conv3d": 1,
    "conv_transpose1d": 1,
    "conv_transpose2d": 1,
    "conv_transpose3d": 1,
    "sigmoid": 1,
    "tanh": 1.6666666666666667,
    "relu": 1.4142135623730951,
    "selu": 0.75,
}
LEAKY_GAINS = {
    None: 1.4141428569978354,
    0.2: 1.3867504905630728,
    0: 1.4142135623730951,
    1: 1.0,
    0.01: 1.4141428569978354,
}
# torch 2.13.0: torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)) -> (fan_in, fan_out)
FANS = {
    (3, 5): (5, 3),
    (64, 3, 3, 3): (27, 576),
    (16, 8, 5): (40, 80),
    (4, 2, 3, 3, 3): (54, 108),
    (7, 1): (1, 7),
    (10, 20, 1, 1): (20, 10),
}


@pytest.mark.parametrize("name", GAINS)
def test_calculate_gain_matches_pytorch(name):
    assert init.calculate_gain(name) == pytest.approx(GAINS[name], rel=1e-15)


@pytest.mark.parametrize("param", LEAKY_GAINS)
def test_leaky_relu_gain_matches_pytorch(param):
    assert init.calculate_gain("leaky_relu", param) == pytest.approx(LEAKY_GAINS[param], rel=1e-15)


@pytest.mark.parametrize("shape", FANS)
def test_fans_match_pytorch(shape):
    assert init.fans(shape) == FANS[shape]


# Exact scales, closed forms (the toolnotes' PyTorch figures for (256, 512): kaiming std 0.0625,
# fan_out 0.08839, xavier_uniform bound 0.0883883).
SCALES = [
    # (function, shape, kwargs, "std" or "bound", closed form)
    (init.kaiming_normal, (256, 512), {}, "std", math.sqrt(2) / math.sqrt(512)),
    (init.kaiming_normal, (256, 512), {"mode": "fan_out"}, "std", math.sqrt(2) / math.sqrt(256)),
    (init.kaiming_normal, (64, 3, 3, 3), {"nonlinearity": "relu"}, "std", math.sqrt(2 / 27)),
    (init.kaiming_normal, (300, 200), {"a": 0.2}, "std", math.sqrt(2 / 1.04) / math.sqrt(200)),
    (init.kaiming_normal, (300, 200), {"nonlinearity": "tanh"}, "std", 5 / 3 / math.sqrt(200)),
    (init.kaiming_uniform, (256, 512), {}, "bound", math.sqrt(6 / 512)),
    (init.kaiming_uniform, (64, 3, 3, 3), {"mode": "fan_out"}, "bound", math.sqrt(6 / 576)),
    (init.kaiming_uniform, (300, 200), {"a": math.sqrt(5)}, "bound", 1 / math.sqrt(200)),  # nn.Linear's default
    (init.xavier_uniform, (256, 512), {}, "bound", math.sqrt(6 / 768)),
    (init.xavier_uniform, (16, 8, 5), {"gain": 2.0}, "bound", 2 * math.sqrt(6 / 120)),
    (init.xavier_normal, (256, 512), {}, "std", math.sqrt(2 / 768)),
    (init.xavier_normal, (64, 3, 3, 3), {"gain": 5 / 3}, "std", 5 / 3 * math.sqrt(2 / 603)),
]
SCALE_IDS = [f"{f.__name__}{shape}{kw}" for f, shape, kw, _, _ in SCALES]


def test_toolnotes_figures():
    assert SCALES[0][4] == 0.0625
    assert SCALES[1][4] == pytest.approx(0.08839, abs=5e-6)
    assert SCALES[8][4] == pytest.approx(0.0883883, abs=5e-8)


@pytest.mark.parametrize(("f", "shape", "kw", "kind", "scale"), SCALES, ids=SCALE_IDS)
def test_draws_are_exactly_the_closed_form_distribution(f, shape, kw, kind, scale):
    # the same generator state fed to NumPy's own sampler with the closed-form scale gives the same array
    w = f(shape, **kw, rng=np.random.default_rng(5))
    ref = np.random.default_rng(5)
    expected = ref.normal(0.0, scale, shape) if kind == "std" else ref.uniform(-scale, scale, shape)
    assert w.shape == shape and w.dtype == np.float64
    np.testing.assert_allclose(w, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("f", "shape", "kw", "kind", "scale"), SCALES, ids=SCALE_IDS)
def test_statistics_with_tolerances_that_cannot_flake(f, shape, kw, kind, scale):
    w = f(shape, **kw, rng=np.random.default_rng(11)).ravel()
    n = w.size
    std = scale if kind == "std" else scale / math.sqrt(3)
    # The sample mean has sd std / sqrt(n); the sample variance has relative sd sqrt(2 / n) for a
    # normal and sqrt(4 / (5 n)) for a uniform (kurtosis 9/5). Seven sds: a failure for a correct
    # sampler has probability < 1e-11 whatever the seed.
    assert abs(w.mean()) < 7 * std / math.sqrt(n)
    rel_sd_var = math.sqrt(2 / n) if kind == "std" else math.sqrt(0.8 / n)
    assert abs(w.var() / std**2 - 1) < 7 * rel_sd_var
    if kind == "bound":
        assert np.all(np.abs(w) <= scale)
        # P(max |w| < scale (1 - eps)) = (1 - eps)**n <= exp(-n eps) = exp(-25)
        assert np.abs(w).max() > scale * (1 - 25 / n)
    else:
        # a normal sample of this size reaches beyond 2 sds many times (P(|x| > 2 std) = 0.0455)
        assert np.mean(np.abs(w) > 2 * std) == pytest.approx(0.0455, abs=7 * math.sqrt(0.0455 * 0.9545 / n))


@pytest.mark.parametrize(
    "f", [init.kaiming_normal, init.kaiming_uniform, init.xavier_normal, init.xavier_uniform, init.normal, init.uniform]
)
def test_randomness_only_through_rng(f):
    shape = (20, 30)
    assert np.array_equal(f(shape, rng=np.random.default_rng(3)), f(shape, rng=np.random.default_rng(3)))
    assert not np.array_equal(f(shape, rng=np.random.default_rng(3)), f(shape, rng=np.random.default_rng(4)))
    g = np.random.default_rng(3)
    first, second = f(shape, rng=g), f(shape, rng=g)  # the generator passed in is the one consumed
    assert not np.array_equal(first, second)
    state = np.random.get_state()[1].copy()  # noqa: NPY002 -- checking the legacy global state is left alone
    a, b = f(shape), f(shape)  # rng=None: a fresh generator each time, never the global one
    assert not np.array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    assert f(shape, rng=np.random.default_rng(1), dtype=np.float32).dtype == np.float32


def test_zeros_and_new_arrays():
    z = init.zeros((3, 4))
    assert z.shape == (3, 4) and not z.any()
    assert init.zeros((2, 2), dtype=np.float32).dtype == np.float32
    rng = np.random.default_rng(0)
    assert not np.shares_memory(init.normal((5,), rng=rng), init.normal((5,), rng=rng))
    np.testing.assert_array_equal(init.kaiming_normal((0, 5), mode="fan_out"), np.zeros((0, 5)))  # no fan: empty
    assert init.xavier_uniform((0, 0)).shape == (0, 0)


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"^nonlinearity must be one of \[.*'selu'\], got 'gelu'$"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match=r"^nonlinearity must be one of"):
        init.kaiming_normal((3, 4), nonlinearity="swish")
    with pytest.raises(ValueError, match=r"^param \(the negative slope\) must be a number, got 'x'$"):
        init.calculate_gain("leaky_relu", "x")
    with pytest.raises(ValueError, match=r"^fans need a shape with at least 2 dimensions, got \(5,\)$"):
        init.xavier_uniform((5,))
    with pytest.raises(ValueError, match=r"^shape must not have negative sizes, got \(3, -1\)$"):
        init.fans((3, -1))
    with pytest.raises(TypeError, match=r"^shape must be a tuple of ints, got 5$"):
        init.fans(5)
    with pytest.raises(ValueError, match=r"^mode must be 'fan_in' or 'fan_out', got 'fan_avg'$"):
        init.kaiming_uniform((3, 4), mode="fan_avg")
    with pytest.raises(TypeError, match=r"^rng must be a numpy.random.Generator or None, got int$"):
        init.xavier_normal((3, 4), rng=42)
    with pytest.raises(TypeError, match=r"^rng must be a numpy.random.Generator or None, got RandomState$"):
        init.kaiming_normal((3, 4), rng=np.random.RandomState(0))
