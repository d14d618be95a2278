"""Layers as forward/backward pairs, and a small multilayer perceptron.

``*_forward`` returns ``(out, cache)``; ``*_backward(dout, *cache)`` returns
the gradients of the inputs. Chaining the backward calls in reverse order
*is* the chain rule: each layer multiplies the upstream gradient ``dout``
by its own local derivative.
"""

import itertools

import numpy as np

from . import activations, init
from ._arrays import as_float
from .losses import cross_entropy_with_grad
from .neuron import dense_forward


def linear_forward(X, W, b):
    """Affine layer ``X @ W.T + b``.

    Parameters
    ----------
    X : ndarray, shape (N, fan_in)
    W : ndarray, shape (fan_out, fan_in)
    b : ndarray, shape (fan_out,)

    Returns
    -------
    out : ndarray, shape (N, fan_out)
    cache : (X, W)
        What ``linear_backward`` needs.
    """
    return dense_forward(X, W, b), (X, W)


def linear_backward(dout, X, W):
    """Gradients of the affine layer ``X @ W.T + b``.

    Parameters
    ----------
    dout : ndarray, shape (N, fan_out)
        Upstream gradient dL/dout.
    X : ndarray, shape (N, fan_in)
    W : ndarray, shape (fan_out, fan_in)

    Returns
    -------
    dX : ndarray, shape (N, fan_in)
        ``dout @ W``.
    dW : ndarray, shape (fan_out, fan_in)
        ``dout.T @ X`` (summed over the batch).
    db : ndarray, shape (fan_out,)
        ``dout.sum(axis=0)``.
    """
    dout, X, W = _check_linear(dout, X, W)
    return dout @ W, dout.T @ X, dout.sum(axis=0)


def _check_linear(dout, X, W):
    """The three arguments of ``linear_backward`` as float arrays, with matching shapes."""
    dout, X, W = as_float(dout, "dout"), as_float(X, "X"), as_float(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must have shape (fan_out, fan_in), got {W.shape}")
    if X.ndim != 2 or X.shape[1] != W.shape[1]:
        raise ValueError(f"X must have shape (N, {W.shape[1]}) to match W of shape {W.shape}, got {X.shape}")
    if dout.shape != (X.shape[0], W.shape[0]):
        raise ValueError(f"dout must have shape ({X.shape[0]}, {W.shape[0]}), got {dout.shape}")
    return dout, X, W


def activation_forward(z, name):
    """Apply the activation ``name``, keeping ``z`` for the backward pass.

    Parameters
    ----------
    z : ndarray, any shape
    name : {"sigmoid", "tanh", "relu", "leaky_relu", "linear"}

    Returns
    -------
    a : ndarray, same shape as ``z``
    cache : ndarray
        ``z`` itself.
    """
    forward, _ = activations.get(name)
    return forward(z), z


def activation_backward(dout, z, name):
    """Gradient through the activation ``name`` at pre-activation ``z``.

    Parameters
    ----------
    dout : ndarray, same shape as ``z``
    z : ndarray, any shape
    name : {"sigmoid", "tanh", "relu", "leaky_relu", "linear"}

    Returns
    -------
    ndarray, same shape as ``z``
    """
    _, backward = activations.get(name)
    return backward(dout, z)


def init_mlp(sizes, rng=None, scheme="kaiming", nonlinearity="relu", dtype=np.float64):
    """Parameters ``W1, b1, ..., WL, bL`` of an MLP with layer widths ``sizes``.

    Parameters
    ----------
    sizes : sequence of int
        ``[in, hidden..., out]``.
    rng : numpy.random.Generator, optional
    scheme : {"kaiming", "xavier", "zeros"} or float
        A float means N(0, scheme**2).
    nonlinearity : str
        Sets the gain of the kaiming and xavier schemes.

    Returns
    -------
    dict
        ``W{l}`` of shape (sizes[l], sizes[l-1]) and ``b{l}`` of shape (sizes[l],), all zero biases.
    """
    params = {}
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes), start=1):
        shape = (fan_out, fan_in)
        if scheme == "kaiming":
            W = init.kaiming_normal(shape, nonlinearity=nonlinearity, rng=rng, dtype=dtype)
        elif scheme == "xavier":
            W = init.xavier_normal(shape, gain=init.calculate_gain(nonlinearity), rng=rng, dtype=dtype)
        elif scheme == "zeros":
            W = init.zeros(shape, dtype)
        elif isinstance(scheme, int | float):
            W = init.normal(shape, 0.0, float(scheme), rng, dtype)
        else:
            raise ValueError(f"scheme must be 'kaiming', 'xavier', 'zeros' or a std, got {scheme!r}")
        params[f"W{layer}"], params[f"b{layer}"] = W, np.zeros(fan_out, dtype=dtype)
    return params


def mlp_forward(X, params, activation="relu"):
    """Forward pass of an MLP: hidden layers use ``activation``, the last is linear.

    Parameters
    ----------
    X : ndarray, shape (N, sizes[0])
    params : dict from ``init_mlp``
    activation : str

    Returns
    -------
    scores : ndarray, shape (N, sizes[-1])
    caches : list
        Per layer ``(linear cache, z)``; ``z`` is None for the last layer.
    """
    n_layers = len(params) // 2
    caches, h = [], X
    for layer in range(1, n_layers + 1):
        z, lin = linear_forward(h, params[f"W{layer}"], params[f"b{layer}"])
        if layer < n_layers:
            h, _ = activation_forward(z, activation)
            caches.append((lin, z))
        else:
            h = z
            caches.append((lin, None))
    return h, caches


def mlp_backward(dscores, caches, activation="relu"):
    """Backward pass matching ``mlp_forward``: returns grads with the params' keys.

    Parameters
    ----------
    dscores : ndarray, shape (N, sizes[-1])
    caches : list from ``mlp_forward``
    activation : str

    Returns
    -------
    dict
        ``dW{l}`` under key ``W{l}``, ``db{l}`` under ``b{l}``.
    """
    grads, dh = {}, dscores
    for layer in range(len(caches), 0, -1):
        (X, W), z = caches[layer - 1]
        if z is not None and activation == "relu" and dh is not dscores:
            # dh is our own fresh array: zero it in place where z <= 0 (a branch-free multiply is
            # several times faster than np.where; equal to relu_backward for finite gradients)
            np.multiply(dh, z > 0, out=dh)
        elif z is not None:
            dh = activation_backward(dh, z, activation)
        dout, X, W = _check_linear(dh, X, W)
        grads[f"W{layer}"], grads[f"b{layer}"] = dout.T @ X, dout.sum(axis=0)
        if layer > 1:  # the input's own gradient is nobody's parameter: skip that product, as PyTorch does
            dh = dout @ W
    return grads


def two_layer_grads(X, y, params):
    """Loss and gradients of Linear -> ReLU -> Linear -> softmax cross-entropy (mean).

    Parameters
    ----------
    X : ndarray, shape (N, D)
    y : ndarray of int, shape (N,)
        Class indices in [0, C).
    params : dict
        ``W1`` (H, D), ``b1`` (H,), ``W2`` (C, H), ``b2`` (C,).

    Returns
    -------
    loss : float
    grads : dict
        Same keys and shapes as ``params``.
    """
    missing = {"W1", "b1", "W2", "b2"} - set(params)
    if missing:
        raise ValueError(f"params must have keys W1 b1 W2 b2; missing {sorted(missing)}")
    scores, caches = mlp_forward(X, {k: params[k] for k in ("W1", "b1", "W2", "b2")}, "relu")
    loss, dscores = cross_entropy_with_grad(scores, y)
    return float(loss), mlp_backward(dscores, caches, "relu")
