"""Shared fixtures of the core's tests: a seeded generator and the finite-difference check."""

import numpy as np
import pytest

from nnbasics import numerical_gradient, rel_error

# Centred differences with h = 1e-5 in float64 agree with a correct analytic gradient to ~1e-9
# away from kinks; the bar is 1e-7, which a wrong factor or a missing term never meets.
GRAD_TOL = 1e-7


@pytest.fixture
def rng():
    """A fixed-seed generator: every test sees the same numbers on every run."""
    return np.random.default_rng(20261107)


@pytest.fixture
def check_grad():
    """``check_grad(f, x, analytic)``: assert ``analytic`` is the gradient of ``f`` at ``x`` (float64)."""

    def check(f, x, analytic):
        x = np.array(x, dtype=np.float64)
        numeric = numerical_gradient(f, x)
        analytic = np.asarray(analytic, dtype=np.float64)
        assert analytic.shape == x.shape
        err = rel_error(analytic, numeric)
        assert err < GRAD_TOL, f"rel_error {err:.3g} between analytic and numerical gradient"

    return check
