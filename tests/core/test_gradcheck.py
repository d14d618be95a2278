import numpy as np
import pytest

from nnbasics import numerical_gradient, rel_error


def test_numerical_gradient_of_a_cubic_is_the_centred_difference_closed_form(rng):
    # (f(x+h) - f(x-h)) / 2h for x**3 is exactly 3 x**2 + h**2: checks the formula, not just "close"
    x = rng.normal(size=(3, 4))
    for h in (1e-2, 1e-3):
        num = numerical_gradient(lambda v: np.sum(v**3), x, h=h)
        np.testing.assert_allclose(num, 3 * x**2 + h**2, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_of_closed_forms(rng):
    x = rng.normal(size=5)
    A = rng.normal(size=(5, 5))  # not symmetric: the gradient of x^T A x is (A + A^T) x
    np.testing.assert_allclose(numerical_gradient(lambda v: v @ A @ v, x), (A + A.T) @ x, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sin(v).sum(), x), np.cos(x), rtol=1e-8, atol=1e-9)
    assert rel_error(numerical_gradient(lambda v: np.exp(v).sum(), x), np.exp(x)) < 1e-9


def test_numerical_gradient_leaves_x_unchanged_and_handles_views(rng):
    x = rng.normal(size=(4, 6))
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**2), x)
    assert np.array_equal(x, before)  # restored bit for bit
    view = x[:, ::2]  # not contiguous
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v**2), view), 2 * view, rtol=1e-8)
    assert np.array_equal(x, before)
    scalar = np.array(1.5)
    np.testing.assert_allclose(numerical_gradient(lambda v: float(v) ** 2, scalar), 3.0, rtol=1e-9)


def test_numerical_gradient_restores_x_when_f_raises(rng):
    x = rng.normal(size=3)
    before = x.copy()
    calls = []

    def f(v):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return v.sum()

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert np.array_equal(x, before)


@pytest.mark.parametrize("bad", [np.arange(3), [1.0, 2.0], 3.0])
def test_numerical_gradient_wants_a_float_array(bad):
    with pytest.raises(TypeError, match=r"^x must be a float ndarray.*got (an ndarray of dtype int64|list|float)$"):
        numerical_gradient(lambda v: 0.0, bad)


def test_rel_error_closed_forms():
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1, rel=1e-12)
    assert rel_error([0.0, 2.0], [0.0, 2.0]) == 0.0
    assert rel_error([1e-12], [0.0]) == pytest.approx(1e-4, rel=1e-12)  # the 1e-8 floor, not 1.0
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0
    assert rel_error([[1.0, -1.0]], [[1.0, 1.0]]) == 1.0  # the largest entry counts
    with pytest.raises(ValueError, match=r"a and b must have the same shape, got \(2,\) and \(3,\)"):
        rel_error([1.0, 2.0], [1.0, 2.0, 3.0])
