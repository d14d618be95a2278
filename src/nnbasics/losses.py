"""Loss functions with PyTorch's semantics, each beside its gradient.

``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"`` as in
``torch.nn.functional``. Each ``*_grad`` returns the gradient of the reduced
loss with respect to the first argument (of ``loss.sum()`` for ``"none"``).
"""

import numpy as np

from ._arrays import as_float, check_reduction, reduce, same_shape, scalar_or_array
from .activations import log_softmax, sigmoid, softmax


def _scale(n, reduction):
    return 1.0 / n if reduction == "mean" and n else 1.0


def _pos_weight(pos_weight, y):
    """``pos_weight`` as a float array that broadcasts to ``y`` without changing its shape."""
    pw = as_float(pos_weight, "pos_weight")
    try:
        ok = np.broadcast_shapes(pw.shape, y.shape) == y.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"pos_weight must broadcast to y's shape {y.shape} (e.g. one weight per class), got {pw.shape}"
        )
    return pw


def mse(pred, target, reduction="mean"):
    """Mean squared error ``(pred - target)**2``, reduced.

    Parameters
    ----------
    pred, target : ndarray, same shape
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    float, or ndarray of ``pred``'s shape for ``"none"``
    """
    pred, target = as_float(pred, "pred"), as_float(target, "target")
    same_shape(pred, target, "pred", "target")
    return reduce((pred - target) ** 2, reduction)


def mse_grad(pred, target, reduction="mean"):
    """Gradient of ``mse`` with respect to ``pred``: ``2 (pred - target)`` scaled by the reduction.

    Parameters
    ----------
    pred, target : ndarray, same shape
    reduction : {"mean", "sum", "none"}
        ``"none"`` gives the gradient of ``mse(..., "none").sum()``.

    Returns
    -------
    ndarray, same shape as ``pred``
    """
    pred, target = as_float(pred, "pred"), as_float(target, "target")
    same_shape(pred, target, "pred", "target")
    check_reduction(reduction)
    return 2.0 * (pred - target) * _scale(pred.size, reduction)


def binary_cross_entropy(p, y, reduction="mean"):
    """Binary cross-entropy of probabilities ``p`` against targets ``y`` in [0, 1].

    ``-(y log p + (1 - y) log(1 - p))`` with each log clamped at -100, as
    PyTorch does, so ``p = 0`` or ``1`` gives a finite loss (at most 100).

    Parameters
    ----------
    p, y : ndarray, same shape, values in [0, 1]
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    float, or ndarray of ``p``'s shape for ``"none"``
    """
    p, y = as_float(p, "p"), as_float(y, "y")
    same_shape(p, y, "p", "y")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p must hold probabilities in [0, 1]; pass logits to bce_with_logits instead")
    with np.errstate(divide="ignore"):  # log(0) = -inf is clamped on the next line
        log_p, log_1p = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
    return reduce(-(y * log_p + (1 - y) * log_1p), reduction)


def binary_cross_entropy_grad(p, y, reduction="mean"):
    """Gradient of ``binary_cross_entropy`` w.r.t. ``p``: ``(p - y) / max(p (1 - p), 1e-12)``, as PyTorch.

    Parameters
    ----------
    p, y : ndarray, same shape, values in [0, 1]
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    ndarray, same shape as ``p``
    """
    p, y = as_float(p, "p"), as_float(y, "y")
    same_shape(p, y, "p", "y")
    check_reduction(reduction)
    return (p - y) / np.maximum(p * (1 - p), 1e-12) * _scale(p.size, reduction)


def bce_with_logits(logits, y, reduction="mean", pos_weight=None):
    """Binary cross-entropy of ``sigmoid(logits)``, computed stably from the logits.

    ``max(z, 0) - z y + log(1 + exp(-|z|))`` never overflows, so logits of
    +-1000 give exact losses (0 or 1000). With ``pos_weight`` the positive
    term is weighted, as ``torch.nn.BCEWithLogitsLoss``.

    Parameters
    ----------
    logits, y : ndarray, same shape
    reduction : {"mean", "sum", "none"}
    pos_weight : ndarray broadcastable to ``y``, optional

    Returns
    -------
    float, or ndarray of ``logits``' shape for ``"none"``
    """
    z, y = as_float(logits, "logits"), as_float(y, "y")
    same_shape(z, y, "logits", "y")
    check_reduction(reduction)
    softplus_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + exp(-z)), stably
    if pos_weight is None:
        return reduce((1 - y) * z + softplus_neg, reduction)
    w = 1 + (_pos_weight(pos_weight, y) - 1) * y
    return reduce((1 - y) * z + w * softplus_neg, reduction)


def bce_with_logits_grad(logits, y, reduction="mean", pos_weight=None):
    """Gradient of ``bce_with_logits`` w.r.t. the logits, scaled by the reduction.

    ``sigmoid(z) - y`` without ``pos_weight``; with it, the derivative of
    ``(1 - y) z + w softplus(-z)``, ``w = 1 + (pos_weight - 1) y``, which is
    ``(1 - y) - w sigmoid(-z)``.

    Parameters
    ----------
    logits, y : ndarray, same shape
    reduction : {"mean", "sum", "none"}
    pos_weight : ndarray broadcastable to ``y``, optional

    Returns
    -------
    ndarray, same shape as ``logits``
    """
    z, y = as_float(logits, "logits"), as_float(y, "y")
    same_shape(z, y, "logits", "y")
    check_reduction(reduction)
    if pos_weight is None:
        return (sigmoid(z) - y) * _scale(z.size, reduction)
    w = 1 + (_pos_weight(pos_weight, y) - 1) * y
    return ((1 - y) - w * sigmoid(-z)) * _scale(z.size, reduction)


def _ce_parts(logits, target, weight, ignore_index, label_smoothing):
    """Return ``(logp, q, denom)``: the loss is ``-sum(q * logp) / denom`` row by row.

    ``q`` holds, per row, how much each class's log-probability counts
    (weights, one-hot or soft targets, smoothing and ignored rows folded in);
    ``denom`` is PyTorch's denominator for the mean.
    """
    z = as_float(logits, "logits")
    if z.ndim not in (1, 2):
        raise ValueError(f"logits must have shape (C,) or (N, C), got {z.shape}")
    z2 = z.reshape(-1, z.shape[-1])
    n, c = z2.shape
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    w = np.ones(c) if weight is None else as_float(weight, "weight")
    if w.shape != (c,):
        raise ValueError(f"weight must have shape ({c},), one per class, got {w.shape}")
    t = np.asarray(target)
    if t.dtype.kind in "iu":  # class indices
        t1 = t.reshape(-1)
        if t1.shape != (n,):
            raise ValueError(f"target must hold {n} class indices to match logits {z.shape}, got {t.shape}")
        keep = t1 != ignore_index
        if np.any((t1[keep] < 0) | (t1[keep] >= c)):
            bad = t1[keep][(t1[keep] < 0) | (t1[keep] >= c)][0]
            raise ValueError(f"target holds class index {bad}, out of range for {c} classes")
        rows = np.flatnonzero(keep)
        q = np.zeros((n, c))
        q[rows, t1[rows]] = (1 - label_smoothing) * w[t1[rows]]
        q[rows] += label_smoothing / c * w
        denom = float(w[t1[rows]].sum())  # a Python float keeps float32 losses float32
    elif t.dtype.kind == "f":  # class probabilities
        if t.shape != z.shape:
            raise ValueError(f"probability targets must have the logits' shape {z.shape}, got {t.shape}")
        q = (t.reshape(n, c) * (1 - label_smoothing) + label_smoothing / c) * w
        denom = float(n)
    else:
        raise TypeError(f"target must be integer class indices or float probabilities, got dtype {t.dtype}")
    return log_softmax(z2), q.astype(z.dtype, copy=False), denom


def cross_entropy(logits, target, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    """Softmax cross-entropy, as ``torch.nn.functional.cross_entropy``.

    ``target`` holds class indices (shape (N,), or a scalar for one sample)
    or class probabilities (the logits' shape). With class ``weight`` the
    ``"mean"`` divides by the summed weights of the targets, not by N.
    ``label_smoothing`` mixes the target with the uniform distribution.

    Parameters
    ----------
    logits : ndarray, shape (N, C) or (C,)
    target : ndarray of int, shape (N,) or (); or float, shape like ``logits``
    reduction : {"mean", "sum", "none"}
    weight : ndarray, shape (C,), optional
    ignore_index : int
        Index targets equal to it count for nothing (default -100).
    label_smoothing : float in [0, 1]

    Returns
    -------
    float, or ndarray of shape (N,) for ``"none"``
    """
    check_reduction(reduction)
    logp, q, denom = _ce_parts(logits, target, weight, ignore_index, label_smoothing)
    return _ce_loss(logp, q, denom, reduction, np.shape(logits))


def cross_entropy_grad(logits, target, reduction="mean", weight=None, ignore_index=-100, label_smoothing=0.0):
    """Gradient of ``cross_entropy`` w.r.t. the logits: ``softmax(z) * sum(q) - q`` per row.

    ``q`` is each row's target distribution times the class weights (see
    ``cross_entropy``); ignored rows get a zero gradient.

    Parameters
    ----------
    logits : ndarray, shape (N, C) or (C,)
    target, reduction, weight, ignore_index, label_smoothing
        As ``cross_entropy``; ``"none"`` gives the gradient of the per-row losses' sum.

    Returns
    -------
    ndarray, shape of ``logits``
    """
    check_reduction(reduction)
    logp, q, denom = _ce_parts(logits, target, weight, ignore_index, label_smoothing)
    return _ce_grad(logp, q, denom, reduction, np.shape(logits))


def _ce_loss(logp, q, denom, reduction, shape):
    per_row = 0.0 - (q * logp).sum(axis=1)  # 0.0 - x: no "-0.0" for a perfect prediction
    if reduction == "none":
        return scalar_or_array(per_row.reshape(shape[:-1]))
    if reduction == "sum":
        return per_row.sum()[()]
    return (per_row.sum() / denom)[()] if denom else per_row.dtype.type(np.nan)  # every row ignored: nan, as PyTorch


def _ce_grad(logp, q, denom, reduction, shape):
    grad = np.exp(logp) * q.sum(axis=1, keepdims=True) - q
    if reduction == "mean":
        grad = grad / denom if denom else grad * np.nan
    return grad.reshape(shape)


def cross_entropy_with_grad(logits, target):
    """``cross_entropy(logits, target)`` and its gradient from one softmax (the training loop's hot path).

    Parameters
    ----------
    logits : ndarray, shape (N, C)
    target : ndarray of int, shape (N,)

    Returns
    -------
    loss : float
        The mean loss.
    grad : ndarray, shape (N, C)
        ``cross_entropy_grad(logits, target)``.
    """
    logp, q, denom = _ce_parts(logits, target, None, -100, 0.0)
    shape = np.shape(logits)
    return _ce_loss(logp, q, denom, "mean", shape), _ce_grad(logp, q, denom, "mean", shape)


__all__ = [
    "bce_with_logits",
    "bce_with_logits_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "log_softmax",
    "mse",
    "mse_grad",
    "softmax",
]
