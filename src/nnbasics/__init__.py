"""nnbasics: the NumPy core behind the course site, the exercises and the grader.

Every graded function of the exercises has its reference version here,
under the same name and signature::

    from nnbasics import sigmoid, xavier_uniform, cross_entropy, Value
"""

import importlib

__version__ = "0.1.0"

# Each public name and the core module that defines it. They are imported on first use (PEP 562), so that
# ``nnbasics grade`` and ``grade-class``, which import this package before their kernels start, do not wait
# for NumPy there (0.1 s, and a BLAS thread per core) before launching them.
_HOMES = {
    "activations": (
        "leaky_relu",
        "leaky_relu_backward",
        "log_softmax",
        "log_softmax_backward",
        "relu",
        "relu_backward",
        "sigmoid",
        "sigmoid_backward",
        "softmax",
        "softmax_backward",
        "tanh",
        "tanh_backward",
    ),
    "autograd": ("Value",),
    "gradcheck": ("numerical_gradient", "rel_error"),
    "init": (
        "calculate_gain",
        "fans",
        "kaiming_normal",
        "kaiming_uniform",
        "normal",
        "uniform",
        "xavier_normal",
        "xavier_uniform",
        "zeros",
    ),
    "layers": ("init_mlp", "linear_backward", "linear_forward", "mlp_backward", "mlp_forward", "two_layer_grads"),
    "losses": (
        "bce_with_logits",
        "bce_with_logits_grad",
        "binary_cross_entropy",
        "binary_cross_entropy_grad",
        "cross_entropy",
        "cross_entropy_grad",
        "mse",
        "mse_grad",
    ),
    "neuron": ("dense_forward", "neuron_forward", "weighted_sum"),
    "optim": ("cosine_decay", "gradient_descent", "max_stable_lr", "sgd_step", "step_decay", "steps_to_converge"),
    "train": ("train_mlp",),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name):
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value  # found directly from now on
        return value
    # ``nnbasics.draw`` stays part of the public API, but lives in the site wing (it needs no import
    # of its own until asked for): the core modules never import the site.
    if name == "draw":
        from .site.graph import draw

        return draw
    raise AttributeError(f"module 'nnbasics' has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *__all__})


__all__ = sorted([*_HOME, "draw"])
