"""Large arrays travel from the kernel as raw frames of the probe's message, and are judged as before.

``checks.probe`` sends an array of ``BUFFER_BYTES`` or more as a buffer of
its ``display_data`` message (not as base64 in its JSON); ``ProbeExecute``
keeps the frames of each test's record and ``JudgeTests`` decodes the arrays
from them. Walked here with real kernels on 03_initialization, whose samples
are the largest results of the course: a correct answer keeps every point and
a wrong distribution still fails with its reason.
"""

import math

from testkit.notebooks import cell_index, solved, write

from nnbasics.grading import checks
from nnbasics.grading.course import graded_meta
from nnbasics.grading.grade import grade_one
from nnbasics.grading.limits import Limits
from nnbasics.grading.steps import judge_tests, record_cases

A = "03_initialization"


def graded(tmp_path, monkeypatch, replace=None):
    """Grade a solved 03_initialization; returns its entry and the frames each test's record came with."""
    frames = {}
    real = judge_tests.verdict

    def spy(outputs, sealed, cell_errors=None, buffers=()):
        frames[len(frames)] = [len(b) for b in buffers]
        return real(outputs, sealed, cell_errors, buffers)

    monkeypatch.setattr(judge_tests, "verdict", spy)
    path = write(solved(A, replace), tmp_path / f"{A}.ipynb")
    return grade_one((str(path), path.read_bytes()), Limits()), frames


def test_samples_come_as_frames_and_a_correct_answer_keeps_its_points(tmp_path, monkeypatch):
    entry, frames = graded(tmp_path, monkeypatch)
    assert entry["status"] == "graded" and entry["score"] == entry["max_score"], entry
    sizes = [n for per_test in frames.values() for n in per_test]
    # one frame per float64 array the source notebook's tests (visible and hidden) expect of 64 KiB or more
    expected = [
        case.expect
        for meta, source in graded_meta(A)
        if meta["grade_id"].startswith("test_")
        for case in record_cases(source)
    ]
    big = [8 * math.prod(e.shape) for e in expected if isinstance(e, checks.Sample | checks.Shape)]
    big = [n for n in big if n >= checks.BUFFER_BYTES]
    assert big.count(1 << 20) >= 8 and sorted(sizes) == sorted(big), frames
    assert all(n >= checks.BUFFER_BYTES for n in sizes), frames


def test_a_wrong_sample_sent_as_frames_still_fails_with_its_reason(tmp_path, monkeypatch):
    nb = solved(A)
    source = nb.cells[cell_index(nb, "xavier_normal")].source
    variance = source.replace("rng.normal(0.0, std, size=shape)", "rng.normal(0.0, std**2, size=shape)")
    assert variance != source
    entry, frames = graded(tmp_path, monkeypatch, {"xavier_normal": variance})
    failed = {t["grade_id"]: t["feedback"] for t in entry["tests"] if not t["passed"]}
    assert list(failed) == ["test_xavier_normal"], failed
    assert "expected a standard deviation near" in failed["test_xavier_normal"], failed
    assert any(frames.values())
