import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnbasics import activations as act

fast = settings(max_examples=40, deadline=None)
finite = st.floats(-50, 50, allow_nan=False)

Z = np.array([-1000.0, -20.0, -1.0, 0.0, 0.5, 3.0, 1000.0])
# torch 2.13.0, float64: torch.sigmoid(Z), torch.tanh(Z), F.leaky_relu(Z, 0.2)
SIGMOID = [0.0, 2.0611536181902037e-09, 0.2689414213699951, 0.5, 0.6224593312018546, 0.9525741268224334, 1.0]
TANH = [-1.0, -1.0, -0.7615941559557649, 0.0, 0.46211715726000974, 0.9950547536867305, 1.0]
LEAKY_02 = [-200.0, -4.0, -0.2, 0.0, 0.5, 3.0, 1000.0]
ZZ = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0], [-1000.0, -1000.0, 1000.0]])
# torch 2.13.0, float64: F.softmax(ZZ, -1), F.log_softmax(ZZ, -1)
SOFTMAX = [[1.0, 0.0, 0.0], [0.09003057317038045, 0.2447284710547976, 0.6652409557748218], [0.0, 0.0, 1.0]]
LOG_SOFTMAX = [
    [0.0, -1000.0, -2000.0],
    [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804],
    [-2000.0, -2000.0, 0.0],
]
Z32 = np.array([-3.0, -0.5, 0.25, 2.0], dtype=np.float32)
# torch 2.13.0, float32: torch.sigmoid(Z32), F.softmax(Z32, -1), F.log_softmax(Z32, -1)
SIGMOID32 = [0.04742587357759476, 0.3775406777858734, 0.562176525592804, 0.8807970285415649]
SOFTMAX32 = [0.005336578469723463, 0.06501283496618271, 0.13763217628002167, 0.792018473148346]
LOG_SOFTMAX32 = [-5.233170509338379, -2.733170509338379, -1.9831706285476685, -0.23317058384418488]


def test_values_against_pytorch():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        np.testing.assert_allclose(act.sigmoid(Z), SIGMOID, rtol=1e-15, atol=0)
        np.testing.assert_allclose(act.tanh(Z), TANH, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(act.leaky_relu(Z, 0.2), LEAKY_02)
        np.testing.assert_array_equal(act.relu(Z), np.maximum(Z, 0))
        np.testing.assert_allclose(act.softmax(ZZ), SOFTMAX, rtol=1e-15, atol=0)
        np.testing.assert_allclose(act.log_softmax(ZZ), LOG_SOFTMAX, rtol=1e-15, atol=0)


def test_softmax_along_another_axis_is_the_transpose():
    np.testing.assert_allclose(act.softmax(ZZ.T, axis=0), np.asarray(SOFTMAX).T, rtol=1e-15, atol=0)
    np.testing.assert_allclose(act.log_softmax(ZZ.T, axis=0), np.asarray(LOG_SOFTMAX).T, rtol=1e-15, atol=0)


def test_float32_is_kept_and_matches_pytorch():
    for f, ref in ((act.sigmoid, SIGMOID32), (act.softmax, SOFTMAX32), (act.log_softmax, LOG_SOFTMAX32)):
        out = f(Z32)
        assert out.dtype == np.float32, f.__name__
        np.testing.assert_allclose(out, ref, rtol=1e-6)


FORWARDS = [act.sigmoid, act.tanh, act.relu, act.leaky_relu, act.identity, act.softmax, act.log_softmax]
BACKWARDS = [
    act.sigmoid_backward,
    act.tanh_backward,
    act.relu_backward,
    act.leaky_relu_backward,
    act.identity_backward,
    act.softmax_backward,
    act.log_softmax_backward,
]


@pytest.mark.parametrize("f", FORWARDS, ids=lambda f: f.__name__)
def test_forward_keeps_float32_and_promotes_ints(f):
    assert f(Z32).dtype == np.float32
    assert f(np.array([1, -2, 3])).dtype == np.float64


@pytest.mark.parametrize("b", BACKWARDS, ids=lambda f: f.__name__)
def test_backward_keeps_float32(b):
    assert b(np.ones_like(Z32), Z32).dtype == np.float32
    assert b(1.0, Z32).dtype == np.float32  # a Python scalar upstream gradient does not promote


def test_scalars_in_scalars_out():
    for f in (act.sigmoid, act.tanh, act.relu, act.leaky_relu):
        out = f(0.5)
        assert isinstance(out, np.float64) and out.ndim == 0, f.__name__
    assert act.sigmoid_backward(1.0, 0.0) == 0.25
    assert act.relu_backward(3.0, 2.0) == 3.0


def test_stable_and_exact_at_plus_minus_1000():
    z = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # an error, not a warning (underflow to 0 is fine)
        assert act.sigmoid(-1000.0) == 0.0 and act.sigmoid(1000.0) == 1.0
        np.testing.assert_array_equal(act.sigmoid_backward(np.ones(2), z), [0.0, 0.0])
        np.testing.assert_array_equal(act.tanh_backward(np.ones(2), z), [0.0, 0.0])
        np.testing.assert_array_equal(act.softmax(z), [0.0, 1.0])
        np.testing.assert_array_equal(act.log_softmax(z), [-2000.0, 0.0])
        np.testing.assert_array_equal(act.softmax_backward(np.array([1.0, -1.0]), z), [0.0, 0.0])
        np.testing.assert_array_equal(act.log_softmax_backward(np.array([1.0, 0.0]), z), [1.0, -1.0])
        f32 = np.array([-1000.0, 1000.0], dtype=np.float32)
        np.testing.assert_array_equal(act.sigmoid(f32), [0.0, 1.0])
        np.testing.assert_array_equal(act.log_softmax(f32), [-2000.0, 0.0])


def _away_from_kinks(rng, shape):
    z = rng.normal(size=shape)
    return np.where(np.abs(z) < 0.1, z + np.sign(z + 1e-3) * 0.2, z)  # |z| >= 0.1: h = 1e-5 never crosses 0


ELEMENTWISE = [
    (act.sigmoid, act.sigmoid_backward),
    (act.tanh, act.tanh_backward),
    (act.relu, act.relu_backward),
    (lambda z: act.leaky_relu(z, 0.3), lambda d, z: act.leaky_relu_backward(d, z, 0.3)),
    (act.identity, act.identity_backward),
]


@pytest.mark.parametrize("pair", ELEMENTWISE, ids=["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_elementwise_backward_against_finite_differences(pair, rng, check_grad):
    f, b = pair
    z, dout = _away_from_kinks(rng, (4, 5)), rng.normal(size=(4, 5))
    check_grad(lambda v: np.sum(dout * f(v)), z, b(dout, z))


@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_backward_against_finite_differences(name, axis, rng, check_grad):
    f, b = getattr(act, name), getattr(act, f"{name}_backward")
    z, dout = rng.normal(size=(3, 4)) * 3, rng.normal(size=(3, 4))
    check_grad(lambda v: np.sum(dout * f(v, axis=axis)), z, b(dout, z, axis=axis))


def test_kinks_follow_pytorch():
    z = np.array([-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(act.relu_backward(np.full(3, 5.0), z), [0.0, 0.0, 5.0])  # no gradient at 0
    np.testing.assert_array_equal(act.leaky_relu_backward(np.full(3, 5.0), z, 0.1), [0.5, 0.5, 5.0])
    np.testing.assert_array_equal(act.relu_backward(np.array([np.inf, np.nan, 1.0]), z), [0.0, 0.0, 1.0])


def test_bad_input_messages():
    with pytest.raises(TypeError, match=r"^z must be a number or a numeric array, got dtype <U3$"):
        act.sigmoid("abc")
    with pytest.raises(ValueError, match=r"^z must be a number or a rectangular array"):
        act.relu([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=r"^dout must have z's shape \(2, 3\) \(or be a scalar\), got \(3,\)$"):
        act.relu_backward(np.ones(3), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^dout must have z's shape"):
        act.softmax_backward(np.ones((3, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"^activation must be one of \[.*'relu'.*\], got 'swish'$"):
        act.get("swish")


@fast
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-800, 800)))
def test_sigmoid_is_symmetric_and_bounded(z):
    s = act.sigmoid(z)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(act.sigmoid(-z), 1 - s, rtol=0, atol=2e-16)
    # the derivative is s (1 - s), largest (1/4) at 0
    assert np.all(act.sigmoid_backward(np.ones_like(z), z) <= 0.25)


@fast
@given(
    arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=finite),
    st.floats(-1000, 1000),
)
def test_softmax_rows_sum_to_one_and_ignore_a_shift(z, c):
    s = act.softmax(z)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    shift = c * np.arange(1, z.shape[0] + 1)[:, None] / z.shape[0]  # a different constant per row
    np.testing.assert_allclose(act.softmax(z + shift), s, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(act.log_softmax(z), np.log(s), rtol=1e-9, atol=1e-12)
    assert np.all(act.log_softmax(z) <= 0)
