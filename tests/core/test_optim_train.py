import math

import numpy as np
import pytest

from nnbasics import optim
from nnbasics.train import blobs, train_mlp, two_moons

A = np.array([[3.0, 1.0], [1.0, 2.0]])  # symmetric positive definite
C = np.array([1.0, -2.0])


def quad_grad(w):
    return A @ (w - C)  # gradient of f(w) = (w - c)^T A (w - c) / 2


def test_sgd_step_returns_a_new_array():
    w = np.array([1.0, 2.0])
    out = optim.sgd_step(w, np.array([0.5, -1.0]), 0.1)
    np.testing.assert_array_equal(out, [0.95, 2.1])
    np.testing.assert_array_equal(w, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"^grad must have w's shape \(2,\), got \(3,\)$"):
        optim.sgd_step(w, np.ones(3), 0.1)


@pytest.mark.parametrize("lr", [0.05, 0.3, 0.5])
def test_gradient_descent_iterates_match_the_closed_form(lr):
    w0 = np.array([4.0, 3.0])
    path = optim.gradient_descent(quad_grad, w0, lr, 25)
    assert path.shape == (26, 2)
    M = np.eye(2) - lr * A  # e_k = (I - lr A)^k e_0
    expected = np.stack([C + np.linalg.matrix_power(M, k) @ (w0 - C) for k in range(26)])
    np.testing.assert_allclose(path, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(w0, [4.0, 3.0])


def test_gradient_descent_edge_cases():
    np.testing.assert_array_equal(optim.gradient_descent(quad_grad, [1.0, 1.0], 0.1, 0), [[1.0, 1.0]])
    assert optim.gradient_descent(lambda w: 2 * w, np.float32(1.0), 0.25, 3).dtype == np.float32
    np.testing.assert_array_equal(optim.gradient_descent(lambda w: 2 * w, 1.0, 0.25, 3), [1.0, 0.5, 0.25, 0.125])
    with pytest.raises(ValueError, match=r"^steps must be a non-negative int, got -1$"):
        optim.gradient_descent(quad_grad, C, 0.1, -1)
    with pytest.raises(ValueError, match=r"^steps must be a non-negative int, got 2.5$"):
        optim.gradient_descent(quad_grad, C, 0.1, 2.5)


def test_max_stable_lr_is_two_over_the_largest_eigenvalue(rng):
    assert optim.max_stable_lr(np.diag([1.0, 4.0])) == 0.5
    assert optim.max_stable_lr(A) == pytest.approx(2 / ((5 + math.sqrt(5)) / 2), rel=1e-14)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    lam = np.array([0.0, 0.3, 1.0, 2.5, 7.0, 12.5])  # singular (PSD) is allowed
    assert optim.max_stable_lr(Q @ np.diag(lam) @ Q.T) == pytest.approx(2 / 12.5, rel=1e-12)
    assert optim.max_stable_lr(np.zeros((3, 3))) == math.inf


def test_max_stable_lr_separates_convergence_from_divergence():
    limit = optim.max_stable_lr(A)
    below = optim.gradient_descent(quad_grad, np.array([4.0, 3.0]), 0.98 * limit, 400)[-1]
    above = optim.gradient_descent(quad_grad, np.array([4.0, 3.0]), 1.02 * limit, 400)[-1]
    assert np.linalg.norm(below - C) < 1e-2
    assert np.linalg.norm(above - C) > 1e2


def test_max_stable_lr_rejects_what_is_not_symmetric_psd():
    with pytest.raises(ValueError, match=r"^hessian must be symmetric$"):
        optim.max_stable_lr(np.array([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"^hessian must be positive semi-definite; its smallest eigenvalue is -1$"):
        optim.max_stable_lr(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"^hessian must be a square matrix, got shape \(2, 3\)$"):
        optim.max_stable_lr(np.ones((2, 3)))


@pytest.mark.parametrize("lam", [0.5, 2.0, 3.7])
@pytest.mark.parametrize(("w0", "tol"), [(1.0, 1e-6), (-2.5, 1e-3), (10.0, 1e-8)])
def test_steps_to_converge_matches_running_gradient_descent(lam, w0, tol):
    lrs = np.linspace(0.02, 1.98, 60) / lam  # inside the stable range, including near 1/lam and 2/lam
    predicted = optim.steps_to_converge(lam, lrs, w0, tol)
    assert predicted.shape == lrs.shape
    for lr, k in zip(lrs, predicted):
        path = optim.gradient_descent(lambda w: lam * w, np.array(w0), lr, int(k))
        assert abs(path[-1]) <= tol, lr  # converged after k steps ...
        assert k == 0 or abs(path[-2]) > tol, lr  # ... and not one step earlier


def test_steps_to_converge_edges():
    assert optim.steps_to_converge(2.0, 0.5) == 1  # lr = 1 / lam: one step
    assert optim.steps_to_converge(2.0, 1.0) == math.inf  # lr = 2 / lam: oscillates forever
    assert optim.steps_to_converge(2.0, 1.5) == math.inf
    assert optim.steps_to_converge(2.0, -0.1) == math.inf
    assert optim.steps_to_converge(2.0, 0.0) == math.inf
    assert optim.steps_to_converge(2.0, 0.1, w0=1e-9) == 0
    with pytest.raises(ValueError, match=r"^tol must be positive, got 0$"):
        optim.steps_to_converge(2.0, 0.1, tol=0)
    with pytest.raises(ValueError, match=r"^lam \(the curvature\) must be positive, got -1.0$"):
        optim.steps_to_converge(-1.0, 0.1)


def test_step_decay_closed_form():
    epochs = np.arange(35)
    np.testing.assert_array_equal(optim.step_decay(0.8, epochs), 0.8 * 0.5 ** (epochs // 10))
    assert optim.step_decay(1.0, 9) == 1.0 and optim.step_decay(1.0, 10) == 0.5
    assert optim.step_decay(0.1, 7, drop=0.1, every=3) == pytest.approx(0.1 * 0.01, rel=1e-15)
    with pytest.raises(ValueError, match=r"^every must be a positive number of epochs, got 0$"):
        optim.step_decay(0.1, 3, every=0)


def test_cosine_decay_closed_form_and_flat_after_total():
    lr0, lr_min, total = 0.5, 0.01, 100
    steps = np.arange(0, 151)
    lr = optim.cosine_decay(lr0, steps, total, lr_min)
    assert lr[0] == lr0
    assert lr[50] == pytest.approx((lr0 + lr_min) / 2, rel=1e-14)
    assert lr[25] == pytest.approx(lr_min + (lr0 - lr_min) * (1 + math.sqrt(0.5)) / 2, rel=1e-14)
    assert np.all(lr[100:] == lr_min)  # flat at lr_min from total_steps on
    assert np.all(np.diff(lr[:101]) < 0)
    assert optim.cosine_decay(1.0, 200, 100) == 0.0
    with pytest.raises(ValueError, match=r"^total_steps must be positive, got 0$"):
        optim.cosine_decay(0.1, 3, 0)


def test_train_mlp_learns_two_moons():
    rng = np.random.default_rng(0)
    X, y = two_moons(200, 0.1, rng)
    assert X.shape == (200, 2) and set(np.unique(y)) == {0, 1}
    _, history = train_mlp(X, y, [2, 16, 16, 2], lr=0.5, epochs=300, rng=rng)
    loss = history["loss"]
    assert loss.shape == (300,) and history["grad_norms"].shape == (300, 3)
    assert loss[0] == pytest.approx(math.log(2), abs=0.1)  # an untrained 2-class net is near chance
    assert loss[-1] < 0.1 * loss[0]
    assert history["accuracy"][-1] >= 0.95
    again = train_mlp(X, y, [2, 16, 16, 2], lr=0.5, epochs=300, rng=np.random.default_rng(1))[1]["loss"]
    assert again[-1] < 0.1 * again[0]


def test_train_mlp_with_a_schedule_is_deterministic_given_the_seed():
    X, y = blobs(100, rng=np.random.default_rng(2))
    runs = [
        train_mlp(X, y, [2, 8, 2], lr=0.5, epochs=40, rng=np.random.default_rng(7), schedule=optim.step_decay)[1]
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0]["loss"], runs[1]["loss"])
    assert runs[0]["loss"][-1] < runs[0]["loss"][0]
