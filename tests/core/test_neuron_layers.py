import numpy as np
import pytest

from nnbasics import activations, layers, neuron


def test_weighted_sum_and_neuron_closed_forms():
    x, w, b = np.array([1.0, 2.0, -1.0]), np.array([0.5, -1.0, 2.0]), 0.5
    assert neuron.weighted_sum(x, w, b) == 0.5 - 2.0 - 2.0 + 0.5  # -3.0
    X = np.array([[1.0, 2.0, -1.0], [0.0, 0.0, 0.0], [2.0, 1.0, 1.0]])
    np.testing.assert_array_equal(neuron.weighted_sum(X, w, b), [-3.0, 0.5, 2.5])
    np.testing.assert_allclose(neuron.neuron_forward(X, w, b), 1 / (1 + np.exp([3.0, -0.5, -2.5])), rtol=1e-15)
    np.testing.assert_allclose(neuron.neuron_forward(X, w, b, "tanh"), np.tanh([-3.0, 0.5, 2.5]), rtol=1e-15)
    np.testing.assert_array_equal(neuron.neuron_forward(X, w, b, "relu"), [0.0, 0.5, 2.5])
    np.testing.assert_array_equal(neuron.neuron_forward(X, w, b, "linear"), [-3.0, 0.5, 2.5])
    assert neuron.neuron_forward(np.zeros(3), w, 0.0) == 0.5  # bias inside the activation: sigmoid(0)
    assert np.ndim(neuron.neuron_forward(x, w, b)) == 0


def test_dense_forward_closed_form_and_inputs_untouched():
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]])
    W = np.array([[1.0, 0.0], [2.0, -1.0], [0.5, 0.5]])  # (fan_out=3, fan_in=2)
    b = np.array([0.0, 1.0, -1.0])
    copies = X.copy(), W.copy(), b.copy()
    expected = [[1.0, 1.0, 0.5], [3.0, 8.0, 0.0], [0.0, 0.0, -0.5]]
    np.testing.assert_array_equal(neuron.dense_forward(X, W, b), expected)
    np.testing.assert_array_equal(neuron.dense_forward(X, W, b), expected)  # the bias is not accumulated
    for a, c in zip((X, W, b), copies):
        assert np.array_equal(a, c)
    np.testing.assert_array_equal(neuron.dense_forward(X[1], W, b), expected[1])
    f32 = neuron.dense_forward(X.astype(np.float32), W.astype(np.float32), b.astype(np.float32))
    assert f32.dtype == np.float32
    assert neuron.dense_forward(X.astype(np.float32), W.astype(np.float32), b).dtype == np.float64  # promoted


def test_neuron_bad_input_messages():
    w = np.ones(3)
    with pytest.raises(ValueError, match=r"^x must have shape \(3,\) or \(N, 3\) to match w, got \(2, 4\)$"):
        neuron.weighted_sum(np.ones((2, 4)), w, 0.0)
    with pytest.raises(ValueError, match=r"^w must have shape \(D,\), got \(3, 1\)$"):
        neuron.weighted_sum(np.ones(3), np.ones((3, 1)), 0.0)
    with pytest.raises(ValueError, match=r"^activation must be 'sigmoid', 'tanh', 'relu' or 'linear', got 'step'$"):
        neuron.neuron_forward(np.ones(3), w, 0.0, "step")
    with pytest.raises(ValueError, match=r"^X must have shape \(N, 3\) to match W of shape \(2, 3\), got \(4, 2\)$"):
        neuron.dense_forward(np.ones((4, 2)), np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"^b must have shape \(2,\) to match W of shape \(2, 3\), got \(3,\)$"):
        neuron.dense_forward(np.ones((4, 3)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match=r"^W must have shape \(fan_out, fan_in\), got \(3,\)$"):
        neuron.dense_forward(np.ones((4, 3)), np.ones(3), np.ones(3))


def test_linear_backward_against_finite_differences(rng, check_grad):
    X, W, b = rng.normal(size=(6, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    G = rng.normal(size=(6, 3))  # upstream gradient: the loss is sum(G * out)
    dX, dW, db = layers.linear_backward(G, X, W)
    assert (dX.shape, dW.shape, db.shape) == ((6, 4), (3, 4), (3,))
    check_grad(lambda v: np.sum(G * layers.linear_forward(v, W, b)[0]), X, dX)
    check_grad(lambda v: np.sum(G * layers.linear_forward(X, v, b)[0]), W, dW)
    check_grad(lambda v: np.sum(G * layers.linear_forward(X, W, v)[0]), b, db)


def test_linear_backward_messages():
    with pytest.raises(ValueError, match=r"^dout must have shape \(6, 3\), got \(6, 2\)$"):
        layers.linear_backward(np.ones((6, 2)), np.ones((6, 4)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"^X must have shape \(N, 4\) to match W of shape \(3, 4\), got \(6, 5\)$"):
        layers.linear_backward(np.ones((6, 3)), np.ones((6, 5)), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"^W must have shape \(fan_out, fan_in\), got \(4,\)$"):
        layers.linear_backward(np.ones((6, 3)), np.ones((6, 4)), np.ones(4))


def _mlp_loss(params, X, G, activation):
    return float(np.sum(G * layers.mlp_forward(X, params, activation)[0]))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "linear"])
def test_mlp_backward_against_finite_differences(activation, rng, check_grad):
    params = layers.init_mlp([4, 6, 5, 3], rng, scheme="xavier", nonlinearity="tanh")
    params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in params.items()}  # non-zero biases
    X, G = rng.normal(size=(7, 4)), rng.normal(size=(7, 3))
    scores, caches = layers.mlp_forward(X, params, activation)
    assert scores.shape == (7, 3) and len(caches) == 3
    kinks = [np.abs(z).min() for _, z in caches[:-1]]
    assert min(kinks) > 1e-3  # ReLU-like kinks farther than h = 1e-5 from every pre-activation
    G_before = G.copy()
    grads = layers.mlp_backward(G, caches, activation)
    assert np.array_equal(G, G_before)  # the caller's upstream gradient is not overwritten
    assert set(grads) == set(params)
    for key, value in params.items():

        def f(v, key=key):
            return _mlp_loss({**params, key: v}, X, G, activation)

        check_grad(f, value, grads[key])


# torch 2.13.0, float64: F.cross_entropy(F.linear(F.relu(F.linear(XN, W1, b1)), W2, b2), YN) and .backward()
XN = np.array([[0.5, -1.2, 0.3], [1.1, 0.4, -0.7], [-0.2, 0.9, 1.5], [0.8, -0.5, -1.0]])
YN = np.array([1, 0, 1, 0])
PARAMS = {
    "W1": np.array([[0.2, -0.4, 0.6], [0.7, 0.1, -0.3], [-0.5, 0.8, 0.2], [0.3, 0.3, -0.9], [-0.6, -0.2, 0.4]]),
    "b1": np.array([0.1, -0.2, 0.05, 0.3, -0.1]),
    "W2": np.array([[0.5, -0.3, 0.8, -0.1, 0.2], [-0.4, 0.6, -0.2, 0.9, -0.7]]),
    "b2": np.array([0.05, -0.05]),
}
LOSS = 1.8942212351185934
GRADS = {
    "W1": [
        [0.03884203399788513, -0.00809650816575791, 0.35164208933980134],
        [0.3715626269156098, -0.016247336083150654, -0.3303971628409295],
        [-0.045039351020722956, 0.2026770795932533, 0.33779513265542216],
        [0.41284736323956644, -0.018052595647945174, -0.3671079587121439],
        [-0.04053541591865065, 0.18240937163392792, 0.30401561938987987],
    ],
    "b1": [0.3614319794263248, 0.3899776609758552, 0.22519675510361475, 0.4333085121953946, 0.20267707959325323],
    "W2": [
        [0.28681717956932606, -0.3106585798774662, 0.26348020347122925, -0.5788281467770343, 0.09908657224559049],
        [-0.28681717956932606, 0.3106585798774662, -0.26348020347122925, 0.5788281467770343, -0.09908657224559048],
    ],
    "b2": [-0.03171742394392263, 0.03171742394392263],
}


def test_two_layer_grads_against_pytorch():
    before = {k: v.copy() for k, v in PARAMS.items()}
    loss, grads = layers.two_layer_grads(XN, YN, PARAMS)
    assert isinstance(loss, float)
    assert loss == pytest.approx(LOSS, rel=1e-14)
    for k in PARAMS:
        np.testing.assert_allclose(grads[k], GRADS[k], rtol=1e-12, atol=1e-15)
        assert np.array_equal(PARAMS[k], before[k])  # parameters are not touched


def test_two_layer_grads_against_finite_differences(rng, check_grad):
    params = layers.init_mlp([5, 8, 4], rng)
    params["b1"] = rng.normal(size=8) * 0.1
    X, y = rng.normal(size=(10, 5)), rng.integers(0, 4, 10)
    z1 = X @ params["W1"].T + params["b1"]
    assert np.abs(z1).min() > 1e-3  # away from the ReLU kink
    _, grads = layers.two_layer_grads(X, y, params)
    for key in params:
        check_grad(lambda v, key=key: layers.two_layer_grads(X, y, {**params, key: v})[0], params[key], grads[key])


def test_two_layer_grads_messages():
    with pytest.raises(ValueError, match=r"^params must have keys W1 b1 W2 b2; missing \['b2'\]$"):
        layers.two_layer_grads(XN, YN, {k: v for k, v in PARAMS.items() if k != "b2"})
    with pytest.raises(ValueError, match=r"^target holds class index 2, out of range for 2 classes$"):
        layers.two_layer_grads(XN, np.array([0, 1, 2, 0]), PARAMS)
    with pytest.raises(ValueError, match=r"^X must have shape \(N, 3\)"):
        layers.two_layer_grads(XN[:, :2], YN, PARAMS)


def test_init_mlp_shapes_and_schemes(rng):
    p = layers.init_mlp([3, 5, 2], rng)
    assert {k: v.shape for k, v in p.items()} == {"W1": (5, 3), "b1": (5,), "W2": (2, 5), "b2": (2,)}
    assert not p["b1"].any() and not layers.init_mlp([3, 5, 2], rng, scheme="zeros")["W1"].any()
    assert layers.init_mlp([3, 5, 2], rng, dtype=np.float32)["W2"].dtype == np.float32
    with pytest.raises(ValueError, match=r"^scheme must be 'kaiming', 'xavier', 'zeros' or a std, got 'he'$"):
        layers.init_mlp([3, 5, 2], rng, scheme="he")


def test_activation_pairs_are_the_activation_module():
    z = np.array([-1.0, 2.0])
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "linear"):
        a, cache = layers.activation_forward(z, name)
        forward, backward = activations.get(name)
        np.testing.assert_array_equal(a, forward(z))
        np.testing.assert_array_equal(layers.activation_backward(np.ones(2), cache, name), backward(np.ones(2), z))
