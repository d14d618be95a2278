"""nnbasics: the NumPy core behind the course site, the exercises and the grader.

Every graded function of the exercises has its reference version here,
under the same name and signature::

    from nnbasics import sigmoid, xavier_uniform, cross_entropy, Value
"""

from .activations import (
    leaky_relu,
    leaky_relu_backward,
    log_softmax,
    log_softmax_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    softmax_backward,
    tanh,
    tanh_backward,
)
from .autograd import Value
from .gradcheck import numerical_gradient, rel_error
from .init import (
    calculate_gain,
    fans,
    kaiming_normal,
    kaiming_uniform,
    normal,
    uniform,
    xavier_normal,
    xavier_uniform,
    zeros,
)
from .layers import init_mlp, linear_backward, linear_forward, mlp_backward, mlp_forward, two_layer_grads
from .losses import (
    bce_with_logits,
    bce_with_logits_grad,
    binary_cross_entropy,
    binary_cross_entropy_grad,
    cross_entropy,
    cross_entropy_grad,
    mse,
    mse_grad,
)
from .neuron import dense_forward, neuron_forward, weighted_sum
from .optim import cosine_decay, gradient_descent, max_stable_lr, sgd_step, step_decay, steps_to_converge
from .train import train_mlp

__version__ = "0.1.0"


def __getattr__(name):
    # ``nnbasics.draw`` stays part of the public API, but lives in the site wing (it needs no import
    # of its own until asked for): the core modules never import the site.
    if name == "draw":
        from .site.graph import draw

        return draw
    raise AttributeError(f"module 'nnbasics' has no attribute {name!r}")


__all__ = [
    "Value",
    "bce_with_logits",
    "bce_with_logits_grad",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "calculate_gain",
    "cosine_decay",
    "cross_entropy",
    "cross_entropy_grad",
    "dense_forward",
    "draw",
    "fans",
    "gradient_descent",
    "init_mlp",
    "kaiming_normal",
    "kaiming_uniform",
    "leaky_relu",
    "leaky_relu_backward",
    "linear_backward",
    "linear_forward",
    "log_softmax",
    "log_softmax_backward",
    "max_stable_lr",
    "mlp_backward",
    "mlp_forward",
    "mse",
    "mse_grad",
    "neuron_forward",
    "normal",
    "numerical_gradient",
    "rel_error",
    "relu",
    "relu_backward",
    "sgd_step",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_backward",
    "step_decay",
    "steps_to_converge",
    "tanh",
    "tanh_backward",
    "train_mlp",
    "two_layer_grads",
    "uniform",
    "weighted_sum",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]
