"""The artificial neuron and the dense layer: a weighted sum, then an activation.

A neuron computes ``a = phi(w . x + b)``: the bias is added *inside*, before
the activation. A dense layer is many neurons sharing an input; its weight
has shape ``(fan_out, fan_in)`` as in ``torch.nn.Linear`` and its output is
``X @ W.T + b``.
"""

import numpy as np

from . import activations
from ._arrays import as_float, scalar_or_array


def weighted_sum(x, w, b):
    """Pre-activation ``z = x . w + b`` of one neuron.

    Parameters
    ----------
    x : ndarray, shape (D,) or (N, D)
        One input, or a batch of N inputs.
    w : ndarray, shape (D,)
    b : float

    Returns
    -------
    float or ndarray of shape (N,)
    """
    x, w = as_float(x, "x"), as_float(w, "w")
    if w.ndim != 1:
        raise ValueError(f"w must have shape (D,), got {w.shape}")
    if x.ndim not in (1, 2) or x.shape[-1] != w.shape[0]:
        raise ValueError(f"x must have shape ({w.shape[0]},) or (N, {w.shape[0]}) to match w, got {x.shape}")
    return scalar_or_array(x @ w + b)


def neuron_forward(x, w, b, activation="sigmoid"):
    """Output ``phi(x . w + b)`` of one neuron.

    Parameters
    ----------
    x : ndarray, shape (D,) or (N, D)
    w : ndarray, shape (D,)
    b : float
    activation : {"sigmoid", "tanh", "relu", "linear"}

    Returns
    -------
    float or ndarray of shape (N,)
    """
    if activation not in ("sigmoid", "tanh", "relu", "linear"):
        raise ValueError(f"activation must be 'sigmoid', 'tanh', 'relu' or 'linear', got {activation!r}")
    phi, _ = activations.get(activation)
    return phi(weighted_sum(x, w, b))


def dense_forward(X, W, b):
    """Dense (fully connected) layer ``X @ W.T + b``, as ``torch.nn.Linear``.

    Parameters
    ----------
    X : ndarray, shape (N, fan_in) or (fan_in,)
    W : ndarray, shape (fan_out, fan_in)
    b : ndarray, shape (fan_out,)

    Returns
    -------
    ndarray, shape (N, fan_out) or (fan_out,)
    """
    X, W, b = as_float(X, "X"), as_float(W, "W"), as_float(b, "b")
    if W.ndim != 2:
        raise ValueError(f"W must have shape (fan_out, fan_in), got {W.shape}")
    if X.ndim not in (1, 2) or X.shape[-1] != W.shape[1]:
        raise ValueError(f"X must have shape (N, {W.shape[1]}) to match W of shape {W.shape}, got {X.shape}")
    if b.shape != (W.shape[0],):
        raise ValueError(f"b must have shape ({W.shape[0]},) to match W of shape {W.shape}, got {b.shape}")
    out = X @ W.T  # W.T is a view: BLAS reads W transposed, no copy
    if out.dtype == np.result_type(out, b):
        out += b  # in place: a second (N, fan_out) array costs as much as the add (page faults)
        return out
    return out + b


def decision_boundary(w, b, x0):
    """The line where a 2-input neuron's pre-activation is 0, at the abscissas ``x0``.

    ``w[0] * x0 + w[1] * x1 + b = 0`` gives ``x1 = -(w[0] * x0 + b) / w[1]``.

    Parameters
    ----------
    w : ndarray, shape (2,), with ``w[1] != 0``
    b : float
    x0 : ndarray, shape (M,)

    Returns
    -------
    ndarray, shape (M,)
    """
    w = as_float(w, "w")
    if w.shape != (2,) or w[1] == 0:
        raise ValueError(f"w must have shape (2,) with w[1] != 0, got {w!r}")
    return -(w[0] * np.asarray(x0, dtype=float) + b) / w[1]
