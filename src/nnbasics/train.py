"""The small training loop and toy data sets behind the site's experiments."""

import numpy as np

from .layers import init_mlp, mlp_backward, mlp_forward
from .losses import cross_entropy_with_grad
from .optim import sgd_step


def two_moons(n=200, noise=0.1, rng=None):
    """Two interleaved half-circles, a classic non-linearly separable problem.

    Parameters
    ----------
    n : int
        Number of points.
    noise : float
        Standard deviation of the Gaussian noise added to each coordinate.
    rng : numpy.random.Generator, optional

    Returns
    -------
    X : ndarray, shape (n, 2)
    y : ndarray of int, shape (n,)
        0 or 1.
    """
    rng = np.random.default_rng() if rng is None else rng
    t = rng.uniform(0, np.pi, n)
    y = rng.integers(0, 2, n)
    upper = y == 0  # the second moon is the first turned over and shifted by (1, 0.5)
    X = np.stack([np.where(upper, np.cos(t), 1 - np.cos(t)), np.where(upper, np.sin(t), 0.5 - np.sin(t))], axis=1)
    return X + rng.normal(0, noise, X.shape), y


def blobs(n=200, centers=((-1.0, -1.0), (1.0, 1.0)), std=0.5, rng=None):
    """Gaussian blobs around ``centers``, one class each.

    Parameters
    ----------
    n : int
        Number of points.
    centers : array_like, shape (K, D)
        One centre per class.
    std : float
    rng : numpy.random.Generator, optional

    Returns
    -------
    X : ndarray, shape (n, D)
    y : ndarray of int, shape (n,)
        Class indices in [0, K).
    """
    rng = np.random.default_rng() if rng is None else rng
    c = np.asarray(centers, dtype=np.float64)
    y = rng.integers(0, len(c), n)
    return c[y] + rng.normal(0, std, (n, c.shape[1])), y


def train_mlp(X, y, sizes, lr=0.1, epochs=100, rng=None, scheme="kaiming", activation="relu", schedule=None):
    """Full-batch gradient descent on an MLP with softmax cross-entropy.

    Parameters
    ----------
    X : ndarray, shape (N, sizes[0])
    y : ndarray of int, shape (N,)
    sizes : sequence of int
    lr : float
        Base learning rate.
    epochs : int
    rng : numpy.random.Generator, optional
    scheme, activation : str
        Passed to ``init_mlp`` / ``mlp_forward``.
    schedule : callable, optional
        ``schedule(lr, epoch) -> lr`` (e.g. ``step_decay``).

    Returns
    -------
    params : dict
        The trained parameters.
    history : dict
        ``loss`` (epochs,), ``accuracy`` (epochs,), ``grad_norms`` (epochs, layers): the
        gradient norm of each layer's weight, first layer first.
    """
    params = init_mlp(sizes, rng, scheme, activation)
    n_layers = len(sizes) - 1
    history = {"loss": np.empty(epochs), "accuracy": np.empty(epochs), "grad_norms": np.empty((epochs, n_layers))}
    for epoch in range(epochs):
        scores, caches = mlp_forward(X, params, activation)
        history["loss"][epoch], dscores = cross_entropy_with_grad(scores, y)
        history["accuracy"][epoch] = np.mean(scores.argmax(axis=1) == y)
        grads = mlp_backward(dscores, caches, activation)
        history["grad_norms"][epoch] = [np.linalg.norm(grads[f"W{k}"]) for k in range(1, n_layers + 1)]
        step = lr if schedule is None else schedule(lr, epoch)
        params = {k: sgd_step(v, grads[k], step) for k, v in params.items()}
    return params, history
