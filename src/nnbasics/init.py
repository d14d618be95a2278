"""Weight initialization with ``torch.nn.init``'s rules, returning new arrays.

The point of a scheme is the *scale*: keep each layer's activations (and
gradients) from shrinking or growing with depth. Xavier/Glorot balances
fan-in and fan-out, ``std = gain * sqrt(2 / (fan_in + fan_out))``; Kaiming/He
keeps one of them, ``std = gain / sqrt(fan)``. Uniform variants use the bound
``sqrt(3) * std``, which has the same variance. Randomness comes only from
the ``rng`` argument (a fresh ``numpy.random.default_rng()`` when None).
"""

import math
from numbers import Real

import numpy as np

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def _shape(shape):
    try:
        shape = tuple(int(n) for n in shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of ints, got {shape!r}") from None
    if any(n < 0 for n in shape):
        raise ValueError(f"shape must not have negative sizes, got {shape}")
    return shape


def _rng(rng):
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng


def fans(shape):
    """Fan-in and fan-out of a weight of this shape, as ``torch.nn.init``.

    A linear weight ``(fan_out, fan_in)`` gives ``(fan_in, fan_out)``; a conv
    weight ``(out_ch, in_ch, *kernel)`` multiplies both by the kernel size, so
    ``(64, 3, 3, 3)`` gives ``(27, 576)``.

    Parameters
    ----------
    shape : tuple of int, length >= 2

    Returns
    -------
    (int, int)
        ``(fan_in, fan_out)``.
    """
    shape = _shape(shape)
    if len(shape) < 2:
        raise ValueError(f"fans need a shape with at least 2 dimensions, got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: sqrt(2);
    leaky_relu: sqrt(2 / (1 + slope**2)) with slope ``param`` (default 0.01);
    selu: 3/4.

    Parameters
    ----------
    nonlinearity : str
    param : float, optional
        The negative slope of leaky_relu.

    Returns
    -------
    float
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, Real) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"param (the negative slope) must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    known = [*_LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
    raise ValueError(f"nonlinearity must be one of {known}, got {nonlinearity!r}")


def zeros(shape, dtype=np.float64):
    """All-zero weights (every neuron identical: the symmetry never breaks).

    Parameters
    ----------
    shape : tuple of int
    dtype : numpy float dtype

    Returns
    -------
    ndarray, shape ``shape``
    """
    return np.zeros(_shape(shape), dtype=dtype)


def normal(shape, mean=0.0, std=1.0, rng=None, dtype=np.float64):
    """Weights drawn from N(mean, std**2).

    Parameters
    ----------
    shape : tuple of int
    mean, std : float
    rng : numpy.random.Generator, optional
    dtype : numpy float dtype

    Returns
    -------
    ndarray, shape ``shape``
    """
    return _rng(rng).normal(mean, std, _shape(shape)).astype(dtype, copy=False)


def uniform(shape, a=0.0, b=1.0, rng=None, dtype=np.float64):
    """Weights drawn from U(a, b).

    Parameters
    ----------
    shape : tuple of int
    a, b : float
        The bounds, ``a <= b``.
    rng : numpy.random.Generator, optional
    dtype : numpy float dtype

    Returns
    -------
    ndarray, shape ``shape``
    """
    return _rng(rng).uniform(a, b, _shape(shape)).astype(dtype, copy=False)


def xavier_std(shape, gain=1.0):
    """Glorot's standard deviation ``gain * sqrt(2 / (fan_in + fan_out))``.

    Parameters
    ----------
    shape : tuple of int, length >= 2
    gain : float

    Returns
    -------
    float
        0 for a weight with no fans (nothing to draw).
    """
    fan_in, fan_out = fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0


def xavier_uniform(shape, gain=1.0, rng=None, dtype=np.float64):
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Parameters
    ----------
    shape : tuple of int, length >= 2
    gain : float
    rng : numpy.random.Generator, optional
    dtype : numpy float dtype

    Returns
    -------
    ndarray, shape ``shape``
    """
    bound = math.sqrt(3.0) * xavier_std(shape, gain)
    return uniform(shape, -bound, bound, rng, dtype)


def xavier_normal(shape, gain=1.0, rng=None, dtype=np.float64):
    """Glorot normal: N(0, std**2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Parameters
    ----------
    shape : tuple of int, length >= 2
    gain : float
    rng : numpy.random.Generator, optional
    dtype : numpy float dtype

    Returns
    -------
    ndarray, shape ``shape``
    """
    return normal(shape, 0.0, xavier_std(shape, gain), rng, dtype)


def kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He's standard deviation ``gain / sqrt(fan)`` with ``fan`` chosen by ``mode``.

    Parameters
    ----------
    shape : tuple of int, length >= 2
    a, mode, nonlinearity
        As ``kaiming_uniform``.

    Returns
    -------
    float
        0 when the chosen fan is 0 (nothing to draw).
    """
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0


def kaiming_uniform(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None, dtype=np.float64):
    """He uniform: U(-bound, bound) with ``bound = sqrt(3) * gain / sqrt(fan)``.

    Parameters
    ----------
    shape : tuple of int, length >= 2
    a : float
        Negative slope of the leaky ReLU that follows (0 for ReLU).
    mode : {"fan_in", "fan_out"}
        Preserve the variance of activations (fan_in) or of gradients (fan_out).
    nonlinearity : str
        Passed to ``calculate_gain`` with ``param=a``.
    rng : numpy.random.Generator, optional
    dtype : numpy float dtype

    Returns
    -------
    ndarray, shape ``shape``
    """
    bound = math.sqrt(3.0) * kaiming_std(shape, a, mode, nonlinearity)
    return uniform(shape, -bound, bound, rng, dtype)


def kaiming_normal(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu", rng=None, dtype=np.float64):
    """He normal: N(0, std**2) with ``std = gain / sqrt(fan)``.

    Parameters
    ----------
    shape : tuple of int, length >= 2
    a, mode, nonlinearity, rng, dtype
        As ``kaiming_uniform``.

    Returns
    -------
    ndarray, shape ``shape``
    """
    return normal(shape, 0.0, kaiming_std(shape, a, mode, nonlinearity), rng, dtype)
