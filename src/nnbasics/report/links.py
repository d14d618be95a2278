"""Which section of the course site teaches each graded function: the report links every test there.

A test ``test_<name>`` checks the function (or quiz answer) ``<name>``; it
links to ``site_link(assignment)`` plus the anchor of the section that
teaches ``<name>``. Anchors are the ids MkDocs gives the concept pages'
``##`` headings (tests/report checks each against the built site).
"""

from ..assignments import site_link

# assignment -> [(anchor, heading, graded functions taught there)]
SECTIONS = {
    "01_neuron": [
        ("a-weighted-sum-then-an-activation", "A weighted sum, then an activation", ("weighted_sum", "neuron_forward")),
        ("the-activation-functions", "The activation functions", ("sigmoid", "relu")),
        ("many-neurons-a-dense-layer", "Many neurons: a dense layer", ("dense_forward",)),
    ],
    "02_learning_rate": [
        (
            "one-step-of-gradient-descent",
            "One step of gradient descent",
            ("sgd_step", "gradient_descent", "max_stable_lr"),
        ),
        ("schedules", "Schedules", ("step_decay", "cosine_decay")),
    ],
    "03_initialization": [
        (
            "the-scale-is-the-point",
            "The scale is the point",
            ("fans", "calculate_gain", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"),
        ),
    ],
    "04_loss": [
        ("what-a-loss-is", "What a loss is", ("mse",)),
        (
            "three-losses-and-their-gradients",
            "Three losses and their gradients",
            ("binary_cross_entropy", "bce_with_logits", "softmax", "log_softmax", "cross_entropy"),
        ),
    ],
    "05_chain_rule": [
        ("a-computational-graph", "A computational graph", ("Value",)),
        (
            "backprop-through-layers",
            "Backprop through layers",
            ("linear_backward", "relu_backward", "sigmoid_backward", "numerical_gradient", "two_layer_grads"),
        ),
    ],
}
SELF_CHECK = ("self-check", "Self-check")  # every concept page ends its teaching with the quiz questions


def section(assignment, grade_id):
    """``(url, heading)`` of the site section that teaches what the test ``grade_id`` checks.

    Parameters
    ----------
    assignment : str
    grade_id : str
        A test's grade_id (``test_sigmoid``) or an answer's (``sigmoid``).

    Returns
    -------
    (str, str)
        The section's full URL (the page itself when no section is known)
        and its heading.
    """
    name = grade_id.removeprefix("test_")
    if name.startswith("quiz_"):
        anchor, heading = SELF_CHECK
        return f"{site_link(assignment)}#{anchor}", heading
    for anchor, heading, functions in SECTIONS.get(assignment, []):
        if name in functions:
            return f"{site_link(assignment)}#{anchor}", heading
    return site_link(assignment), "the page"
