"""Activation functions, each beside its derivative.

Every function takes an array ``z`` of any shape and returns an array of the
same shape (a NumPy scalar for scalar input); float32 input stays float32.
``*_backward(dout, z)`` returns ``dout * f'(z)``, the local step of the chain
rule. All of them are stable at |z| = 1000: no overflow warning and no nan.
"""

import numpy as np

from ._arrays import as_float, scalar_or_array, upstream


def sigmoid(z):
    """Logistic sigmoid ``1 / (1 + exp(-z))``.

    Computed from ``exp(-|z|)``, which never overflows, so ``sigmoid(-1000.0)``
    is exactly ``0.0`` with no warning.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    e = np.exp(-np.abs(z))  # in (0, 1]: no overflow for either sign
    return scalar_or_array(np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False))


def sigmoid_backward(dout, z):
    """Gradient through the sigmoid: ``dout * s * (1 - s)`` with ``s = sigmoid(z)``.

    Parameters
    ----------
    dout : ndarray, same shape as ``z``, or a scalar
        Upstream gradient dL/da.
    z : ndarray, any shape
        The pre-activation the forward pass saw.

    Returns
    -------
    ndarray, same shape as ``z``
        dL/dz.
    """
    z = as_float(z, "z")
    s = sigmoid(z)
    return scalar_or_array(upstream(dout, z) * s * (1.0 - s))


def tanh(z):
    """Hyperbolic tangent (``np.tanh`` is already stable at large |z|).

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    return scalar_or_array(np.tanh(as_float(z, "z")))


def tanh_backward(dout, z):
    """Gradient through tanh: ``dout * (1 - tanh(z)**2)``.

    Parameters
    ----------
    dout : ndarray, same shape as ``z``, or a scalar
        Upstream gradient dL/da.
    z : ndarray, any shape
        The pre-activation the forward pass saw.

    Returns
    -------
    ndarray, same shape as ``z``
        dL/dz.
    """
    z = as_float(z, "z")
    t = np.tanh(z)
    return scalar_or_array(upstream(dout, z) * (1.0 - t * t))


def relu(z):
    """Rectified linear unit ``max(z, 0)``.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    return scalar_or_array(np.maximum(z, 0).astype(z.dtype, copy=False))


def relu_backward(dout, z):
    """Gradient through ReLU: ``dout`` where ``z > 0``, else 0.

    At ``z == 0`` no gradient passes, PyTorch's convention.

    Parameters
    ----------
    dout : ndarray, same shape as ``z``, or a scalar
    z : ndarray, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    return scalar_or_array(np.where(z > 0, upstream(dout, z), 0.0).astype(z.dtype, copy=False))


def leaky_relu(z, negative_slope=0.01):
    """Leaky ReLU: ``z`` for ``z > 0``, ``negative_slope * z`` otherwise.

    Parameters
    ----------
    z : array_like, any shape
    negative_slope : float

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    return scalar_or_array(np.where(z > 0, z, negative_slope * z).astype(z.dtype, copy=False))


def leaky_relu_backward(dout, z, negative_slope=0.01):
    """Gradient through leaky ReLU: ``dout`` where ``z > 0``, ``negative_slope * dout`` elsewhere (as PyTorch).

    Parameters
    ----------
    dout : ndarray, same shape as ``z``, or a scalar
    z : ndarray, any shape
    negative_slope : float

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    dout = upstream(dout, z)
    return scalar_or_array(np.where(z > 0, dout, negative_slope * dout).astype(z.dtype, copy=False))


def identity(z):
    """The linear activation ``z`` (as a float array); here so every activation has a name.

    Parameters
    ----------
    z : array_like, any shape

    Returns
    -------
    ndarray, same shape as ``z`` (a copy)
    """
    return scalar_or_array(as_float(z, "z").copy())


def identity_backward(dout, z):
    """Gradient through the identity: ``dout`` itself.

    Parameters
    ----------
    dout : ndarray, same shape as ``z``, or a scalar
    z : ndarray, any shape

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    return scalar_or_array(upstream(dout, z) * np.ones_like(z))


def softmax(z, axis=-1):
    """Softmax along ``axis``: ``exp(z - max) / sum(exp(z - max))``.

    Subtracting each slice's max makes every exponent <= 0, so logits of
    +-1000 neither overflow nor give nan.

    Parameters
    ----------
    z : array_like, shape (..., C, ...)
    axis : int
        The class axis (default: last).

    Returns
    -------
    ndarray, same shape as ``z``; slices along ``axis`` sum to 1.
    """
    z = as_float(z, "z")
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(dout, z, axis=-1):
    """Gradient through softmax: ``s * (dout - sum(dout * s))`` along ``axis``.

    Parameters
    ----------
    dout : ndarray, same shape as ``z``, or a scalar
    z : ndarray, shape (..., C, ...)
    axis : int

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    dout = upstream(dout, z)
    s = softmax(z, axis)
    return s * (dout - (dout * s).sum(axis=axis, keepdims=True))


def log_softmax(z, axis=-1):
    """Log of the softmax along ``axis``: ``z - max - log(sum(exp(z - max)))``.

    Exact for large logits: ``log_softmax([1000, 0])`` is ``[0, -1000]``.

    Parameters
    ----------
    z : array_like, shape (..., C, ...)
    axis : int

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax_backward(dout, z, axis=-1):
    """Gradient through log-softmax: ``dout - softmax(z) * sum(dout)`` along ``axis``.

    Parameters
    ----------
    dout : ndarray, same shape as ``z``, or a scalar
    z : ndarray, shape (..., C, ...)
    axis : int

    Returns
    -------
    ndarray, same shape as ``z``
    """
    z = as_float(z, "z")
    dout = upstream(dout, z) * np.ones_like(z)  # a scalar dout means the same upstream gradient everywhere
    return dout - softmax(z, axis) * dout.sum(axis=axis, keepdims=True)


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "linear": (identity, identity_backward),
}


def get(name):
    """Return ``(forward, backward)`` for an activation name; ``ValueError`` if unknown.

    Parameters
    ----------
    name : {"sigmoid", "tanh", "relu", "leaky_relu", "linear"}

    Returns
    -------
    (callable, callable)
        ``forward(z)`` and ``backward(dout, z)``, both shape-preserving.
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}") from None
