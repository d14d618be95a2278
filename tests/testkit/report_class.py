"""The report tests' synthetic class: its item analysis is known by construction (tests/report grades it once).

Ten students hand in 01_neuron (five tests worth 2 points each, four quizzes 1; 14 in all):

=======  ==================================================================  =====
student  answers                                                             score
=======  ==================================================================  =====
ada      her own neuron_forward (a table of activations); quiz_2 wrong          13
ben      the model answers; quiz_2 wrong                                        13
cara     naive sigmoid 1 / (1 + exp(-z)) (overflows) and a leaky relu            10
dan      the same two wrong answers as cara                                      10
eve      the same naive sigmoid                                                  12
finn     dense_forward copied from nnbasics (its code, variables renamed)        14
gus      the same copy, other names, comments and layout                        14
hal      ada's neuron_forward, variables renamed and reformatted                14
ivy      two cells that kill the kernel (it dies again after the one restart)     –
jo       a file that is not a notebook: invalid                                  –
=======  ==================================================================  =====

So, over the 8 graded submissions: test_sigmoid passes 5/8, test_relu 6/8,
test_quiz_2 6/8, every other test 8/8; the students failing sigmoid or relu
have lower other scores (positive discrimination), the two failing quiz_2
higher ones (negative); the similar pairs are (ada, hal) on neuron_forward,
(finn, gus) on dense_forward, and finn and gus each with nnbasics. The
model answers everyone else shares are the common answer (more than a
quarter of the class), and the naive sigmoid is too short to compare.
"""

import inspect
import io
import re
import tokenize

import nbformat

import nnbasics
from nnbasics import _arrays
from testkit import mutants
from testkit.notebooks import cell_index, solved, write

A = "01_neuron"
STUDENTS = ("ada", "ben", "cara", "dan", "eve", "finn", "gus", "hal", "ivy", "jo")
GRADED = ("ada", "ben", "cara", "dan", "eve", "finn", "gus", "hal")
# the tests of 01_neuron by pass rate in this class, lowest first (ties in notebook order)
HARDEST_FIRST = (
    "test_sigmoid",
    "test_relu",
    "test_quiz_2",
    "test_weighted_sum",
    "test_neuron_forward",
    "test_dense_forward",
    "test_quiz_1",
    "test_quiz_3",
    "test_quiz_4",
)
NAIVE_SIGMOID = mutants.answers(A, "sigmoid", 0)["sigmoid"]
LEAKY_RELU = mutants.answers(A, "relu", 2)["relu"]
WRONG_QUIZ_2 = mutants.answers(A, "quiz_2", 0)["quiz_2"]

ADA_NEURON = '''def neuron_forward(x, w, b, activation="sigmoid"):
    """One neuron: phi(x . w + b), phi looked up in a table."""
    pre = np.dot(x, w) + b
    table = {
        "sigmoid": lambda t: np.exp(-np.logaddexp(0.0, -t)),  # log-sum-exp: no overflow
        "tanh": np.tanh,
        "relu": lambda t: np.maximum(t, 0),
        "linear": lambda t: t,
    }
    if activation not in table:
        raise ValueError(f"unknown activation {activation!r}: use sigmoid, tanh, relu or linear")
    return table[activation](pre)
'''

HAL_NEURON = """def neuron_forward(inputs, weights, bias, activation = "sigmoid"):
    # my own neuron
    s = np.dot(inputs, weights)+bias
    fns = {"sigmoid": lambda u: np.exp(-np.logaddexp(0.0, -u)), "tanh": np.tanh,
           "relu": lambda u: np.maximum(u, 0), "linear": lambda u: u}
    if activation not in fns:
        raise ValueError(f"unknown activation {activation!r}: use sigmoid, tanh, relu or linear")
    return fns[activation](s)
"""


def renamed(source, names):
    """``source`` with the identifiers of ``names`` renamed, in code and in f-string fields (not in plain text)."""

    def words(text):
        return re.sub(r"(?<![\w.])(\w+)", lambda m: names.get(m[1], m[1]), text)

    out, previous = [], None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in names and previous != ".":
            tok = tok._replace(string=names[tok.string])
        elif tok.type == tokenize.STRING and re.match(r"(?i)r?f", tok.string):
            tok = tok._replace(string=re.sub(r"\{([^{}]*)\}", lambda m: "{" + words(m[1]) + "}", tok.string))
        out.append(tok)
        previous = tok.string
    return tokenize.untokenize(out)


def copied_dense_forward(names, helper):
    """nnbasics' own dense_forward and the helper it calls, as a learner who copied them would hand them in."""
    helper_src = renamed(inspect.getsource(_arrays.as_float), {"as_float": helper, "x": "value", "arr": "array"})
    return helper_src + "\n\n" + renamed(inspect.getsource(nnbasics.dense_forward), {"as_float": helper, **names})


FINN_DENSE = copied_dense_forward({"X": "inp", "W": "weight", "b": "bias", "out": "result"}, "as_float")
GUS_DENSE = "# dense layer (mine)\n" + copied_dense_forward(
    {"X": "data", "W": "M", "b": "offset", "out": "y"}, "floaty"
)


def build_class(root):
    """The submitted/ folder of the class above, under ``root``."""
    sub = root / "submitted"

    def hand_in(student, replace=None):
        return write(solved(A, replace), sub / student / A / f"{A}.ipynb")

    hand_in("ada", {"neuron_forward": ADA_NEURON, "quiz_2": WRONG_QUIZ_2})
    hand_in("ben", {"quiz_2": WRONG_QUIZ_2})
    hand_in("cara", {"sigmoid": NAIVE_SIGMOID, "relu": LEAKY_RELU})
    hand_in("dan", {"sigmoid": NAIVE_SIGMOID, "relu": LEAKY_RELU})
    hand_in("eve", {"sigmoid": NAIVE_SIGMOID})
    hand_in("finn", {"dense_forward": FINN_DENSE})
    hand_in("gus", {"dense_forward": GUS_DENSE})
    hand_in("hal", {"neuron_forward": HAL_NEURON})
    crash = solved(A)  # two cells that kill the kernel: it dies again after the grader's one restart
    crash.cells.insert(cell_index(crash, "checks") + 1, nbformat.v4.new_code_cell("import os\nos._exit(1)"))
    crash.cells.append(nbformat.v4.new_code_cell("import os\nos._exit(2)"))
    write(crash, sub / "ivy" / A / f"{A}.ipynb")
    (sub / "jo" / A).mkdir(parents=True)
    (sub / "jo" / A / f"{A}.ipynb").write_text("{ not json", encoding="utf-8")
    return sub
