"""Oddities graded, not crashed (issue 12): odd results fail their own test with one sentence, the rest is graded.

A solved notebook whose answers return a 400-digit int, a lone surrogate, a
generator, a list that contains itself, a 500 MB array and a 30 MB quiz
answer, graded by the real ``nnbasics grade``: each of those tests fails with
its sentence, every other test keeps its points, and nothing large comes back.
"""

from testkit.notebooks import solved, write

ODD = {
    "weighted_sum": "def weighted_sum(x, w, b):\n    return 10**400\n",
    "sigmoid": 'def sigmoid(z):\n    return "\\ud83d"  # a lone surrogate\n',
    "relu": "def relu(z):\n    return (v for v in [z])\n",
    "neuron_forward": "def neuron_forward(x, w, b, activation='sigmoid'):\n    out = []\n    out.append(out)\n    return out\n",
    "dense_forward": "def dense_forward(X, W, b):\n    return np.broadcast_to(np.zeros(1), ((500 << 20) // 8,))\n",
    "quiz_1": 'answer = "x" * (30 << 20)\n',
}
SAYS = {
    "test_weighted_sum": "an integer of about 401 digits",
    "test_sigmoid": "'\\ud83d'",
    "test_relu": "a generator",
    "test_neuron_forward": "nested too deeply",
    "test_dense_forward": "the result is too large",
    "test_quiz_1": "the result is too large",
}


def test_odd_results_fail_their_own_tests_and_the_rest_is_graded(tmp_path, grade_json):
    path = write(solved("01_neuron", ODD), tmp_path / "01_neuron.ipynb")
    status, out, err = grade_json(path)
    assert status == 0, err
    (nb,) = out["notebooks"]
    assert nb["status"] == "graded", nb["error"]
    tests = {t["grade_id"]: t for t in nb["tests"]}
    assert {gid for gid, t in tests.items() if not t["passed"]} == set(SAYS)
    for gid, words in SAYS.items():
        assert words in tests[gid]["feedback"] and "\n" not in tests[gid]["feedback"], tests[gid]
    assert nb["score"] == sum(t["max_score"] for gid, t in tests.items() if gid not in SAYS) > 0
    assert len(str(out)) < 20_000  # no answer echoed back whole
