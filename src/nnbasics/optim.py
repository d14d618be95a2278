"""Gradient descent, the learning rate's stability limit, and schedules.

On a quadratic with Hessian H, one step maps the error e to (I - lr H) e, so
each eigen-direction shrinks by |1 - lr lambda|: gradient descent converges
iff lr < 2 / lambda_max. Below the limit a larger lr is faster until
lr = 1 / lambda (one step), then slower again: the "V" on the site.
"""

import math

import numpy as np

from ._arrays import as_float


def sgd_step(w, grad, lr):
    """One gradient-descent step ``w - lr * grad``, as a new array (``w`` is not changed).

    Parameters
    ----------
    w, grad : ndarray, same shape
    lr : float

    Returns
    -------
    ndarray, same shape as ``w``
    """
    w, grad = as_float(w, "w"), as_float(grad, "grad")
    if w.shape != grad.shape:
        raise ValueError(f"grad must have w's shape {w.shape}, got {grad.shape}")
    return w - lr * grad


def gradient_descent(grad_fn, w0, lr, steps):
    """Run ``steps`` steps of gradient descent from ``w0``.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(w) -> ndarray`` of ``w``'s shape.
    w0 : ndarray, shape S
    lr : float
    steps : int >= 0

    Returns
    -------
    ndarray, shape (steps + 1, *S)
        The iterates ``w0, w1, ..., w_steps``.
    """
    if not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be a non-negative int, got {steps!r}")
    w = as_float(w0, "w0").copy()
    path = np.empty((steps + 1, *w.shape), dtype=w.dtype)
    path[0] = w
    for k in range(1, steps + 1):
        w = sgd_step(w, grad_fn(w), lr)
        path[k] = w
    return path


def max_stable_lr(hessian):
    """The largest stable learning rate ``2 / lambda_max`` for a quadratic.

    Parameters
    ----------
    hessian : ndarray, shape (D, D)
        Symmetric positive semi-definite.

    Returns
    -------
    float
        ``inf`` when the Hessian is zero (every lr is stable).
    """
    H = as_float(hessian, "hessian")
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"hessian must be a square matrix, got shape {H.shape}")
    if not np.allclose(H, H.T, rtol=1e-10, atol=1e-12):
        raise ValueError("hessian must be symmetric")
    eig = np.linalg.eigvalsh(H)
    scale = max(1.0, float(np.abs(eig).max()))
    if eig[0] < -1e-10 * scale:
        raise ValueError(f"hessian must be positive semi-definite; its smallest eigenvalue is {eig[0]:.6g}")
    return math.inf if eig[-1] <= 0 else 2.0 / float(eig[-1])


def steps_to_converge(lam, lr, w0=1.0, tol=1e-6):
    """Steps gradient descent needs on ``f(w) = lam / 2 * w**2`` to reach ``|w| <= tol``.

    Closed form: ``w_k = (1 - lr lam)^k w0``, so ``k = ceil(log(tol/|w0|) / log|1 - lr lam|)``.
    Vectorised over ``lr``.

    Parameters
    ----------
    lam : float > 0
    lr : float or ndarray of shape (M,)
    w0, tol : float

    Returns
    -------
    float or ndarray of shape (M,)
        ``inf`` where it never converges (``lr >= 2 / lam``, or ``lr <= 0``).
    """
    if not lam > 0:
        raise ValueError(f"lam (the curvature) must be positive, got {lam!r}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol!r}")
    r = np.abs(1.0 - np.asarray(lr, dtype=np.float64) * lam)
    need = math.log(tol / abs(w0)) if w0 else 0.0
    with np.errstate(divide="ignore"):  # r == 0 (one-step convergence) gives log 0 = -inf
        k = np.where((r < 1) & (r > 0), np.ceil(need / np.log(np.where((r < 1) & (r > 0), r, 0.5))), np.inf)
    k = np.where(r == 0, 1.0, k)
    k = np.where(abs(w0) <= tol, 0.0, k)
    return k[()] if k.ndim == 0 else k


def step_decay(lr0, epoch, drop=0.5, every=10):
    """Step schedule ``lr0 * drop ** (epoch // every)``.

    Parameters
    ----------
    lr0 : float
    epoch : int or ndarray of int
    drop : float
    every : int > 0

    Returns
    -------
    float or ndarray like ``epoch``
    """
    if every <= 0:
        raise ValueError(f"every must be a positive number of epochs, got {every}")
    return lr0 * drop ** (np.asarray(epoch) // every)[()]


def cosine_decay(lr0, step, total_steps, lr_min=0.0):
    """Cosine schedule from ``lr0`` to ``lr_min`` over ``total_steps``, then flat at ``lr_min``.

    ``lr_min + (lr0 - lr_min) * (1 + cos(pi * min(step, total) / total)) / 2``.

    Parameters
    ----------
    lr0 : float
    step : int or ndarray of int
    total_steps : int > 0
    lr_min : float

    Returns
    -------
    float or ndarray like ``step``
    """
    if total_steps <= 0:
        raise ValueError(f"total_steps must be positive, got {total_steps}")
    t = np.minimum(np.asarray(step, dtype=np.float64), total_steps) / total_steps
    return (lr_min + (lr0 - lr_min) * 0.5 * (1.0 + np.cos(np.pi * t)))[()]
