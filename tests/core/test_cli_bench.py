import subprocess
import sys
from pathlib import Path

import numpy as np

from nnbasics import two_layer_grads
from nnbasics.bench import core as bench_core
from nnbasics.bench import grader as bench_grader


def test_nnbasics_help_works():
    exe = Path(sys.executable).with_name("nnbasics")  # the console script pyproject.toml installs beside python
    assert exe.exists(), f"{exe} is missing: is nnbasics installed in this environment?"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("usage: nnbasics")
    for command in ("grade", "grade-class", "bench"):
        assert command in out.stdout
    assert out.stderr == ""


def test_time_blocks_times_every_call_and_alternates_the_order():
    calls = []
    steps = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = bench_core.time_blocks(steps, warmup=2, blocks=3, per_block=2)
    assert {k: len(v) for k, v in times.items()} == {"a": 6, "b": 6}
    assert all(t >= 0 for v in times.values() for t in v)
    assert "".join(calls) == "aabb" + "aabb" + "bbaa" + "aabb"  # warm-up, then blocks in alternating order


def test_benchmark_problem_is_the_issue_s_mlp():
    X, y, params = bench_core.make_problem()
    assert X.shape == (256, 512) and X.dtype == np.float64 and y.shape == (256,)
    assert {k: v.shape for k, v in params.items()} == {"W1": (512, 512), "b1": (512,), "W2": (10, 512), "b2": (10,)}
    loss, grads = two_layer_grads(X, y, params)
    assert np.isfinite(loss) and grads["W1"].shape == (512, 512)


def test_bench_core_prints_its_figures(capsys):
    assert bench_core.main(blocks=2, per_block=2) == 0
    out = capsys.readouterr().out
    assert "batch 256, 512 -> 512 -> 10" in out
    assert "OMP_NUM_THREADS=" in out and "OPENBLAS_NUM_THREADS=" in out
    assert "alone (PyTorch not imported yet):\n  nnbasics " in out and "ms/step" in out and "page faults/step" in out
    assert ("ratio nnbasics / pytorch = " in out) or ("pytorch not importable" in out)


def test_grader_figure_is_the_median_of_the_pairs_ratios(capsys):
    # pairs 1/4, 3/4, 2/10: ratios 0.25, 0.75, 0.2, median 0.25 (the ratio of the median times would be 2/4 = 0.5)
    ratio = bench_grader._figure("five", [1.0, 3.0, 2.0], [4.0, 4.0, 10.0], 0.3)
    assert ratio == 0.25
    out = capsys.readouterr().out
    assert "nnbasics 2.00 s, nbgrader 4.00 s" in out and "ratio nnbasics/nbgrader = 0.25  (target <= 0.3)" in out
