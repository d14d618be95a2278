"""The memory guard (``guard.py``): it trips on growth past its allowance, once, and only then."""

import threading

import psutil
import pytest

from nnbasics.grading import guard

MiB = 1 << 20


def rss():
    return psutil.Process().memory_info().rss


def hold(n):
    """``n`` bytes written (so resident), released when dropped."""
    return bytearray(b"\x01" * n)


def wait_until(calls, seconds=2.0):
    stop = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if calls:
            return
        stop.wait(0.01)


def test_growth_past_the_allowance_trips_it_once():
    calls = []
    with guard.guarded(lambda: calls.append(rss()), growth=64 * MiB):
        start = rss()
        held = [hold(32 * MiB) for _ in range(4)]  # 128 MiB, twice the allowance
        wait_until(calls)
        more = hold(32 * MiB)  # still past it: no second call
        threading.Event().wait(0.05)
    assert len(calls) == 1
    assert calls[0] > start + 64 * MiB - 8 * MiB  # called once past the allowance (the start was read just before)
    del held, more


def test_growth_within_the_allowance_does_not_trip_it():
    calls = []
    with guard.guarded(lambda: calls.append(1), growth=256 * MiB):
        held = hold(64 * MiB)
        threading.Event().wait(0.1)
    assert not calls
    del held


def test_the_allowance_is_per_notebook_graded_at_once():
    calls = []
    with guard.guarded(lambda: calls.append("outer"), growth=96 * MiB):
        with guard.guarded(lambda: calls.append("inner"), growth=96 * MiB):
            held = hold(128 * MiB)  # over one allowance, under two
            threading.Event().wait(0.1)
            assert not calls
        wait_until(calls)  # the inner block is closed: the outer one's allowance is one again
    assert calls == ["outer"]
    del held


def test_its_thread_ends_with_the_block():
    with guard.guarded(lambda: None):
        assert any(t.name == "nnbasics-memory-guard" for t in threading.enumerate())
    assert not any(t.name == "nnbasics-memory-guard" for t in threading.enumerate())
    assert guard._ACTIVE[0] == 0


def test_an_error_in_the_block_still_stops_it():
    with pytest.raises(KeyError), guard.guarded(lambda: None):
        raise KeyError("x")
    assert guard._ACTIVE[0] == 0 and not any(t.name == "nnbasics-memory-guard" for t in threading.enumerate())
