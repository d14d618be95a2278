"""A command under test that must end: its output, or (if it hangs) it and its children killed and the test failed.

A run left hanging would outlive its test, and its pipes and process object,
collected later in another test of the same worker, would fail that one.
"""

import subprocess

import psutil
import pytest


def finish(proc, timeout):
    """``proc.communicate()`` within ``timeout`` seconds; a process still running then is killed with its tree."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with_children = [proc.pid]
        try:
            with_children += [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        except psutil.Error:
            pass
        for pid in with_children:
            try:
                psutil.Process(pid).kill()
            except psutil.Error:
                pass
        _, err = proc.communicate()
        tail = err[-3000:].decode(errors="replace") if isinstance(err, bytes) else err[-3000:]
        pytest.fail(f"{proc.args} did not end within {timeout} s (killed); its stderr ended with:\n{tail}")
