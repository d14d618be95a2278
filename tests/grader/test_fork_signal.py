"""A Ctrl-C or SIGTERM that comes while a command's pool forks its workers stops the command, cleanly.

CPython runs at-fork hooks (``logging``'s lock release among them) in the
parent right after ``fork``; a Python signal handler that runs there raises
into a hook, and CPython prints the exception as "Exception ignored in ..."
with its traceback and drops it: the interrupt is lost and the run goes on.
CI once saw exactly that in ``grade-class`` (tests/grader/test_interrupts.py).
Here the signal is sent by an at-fork hook of the pool's own fork, so it
always lands in that window: the command must end with the signal's status,
say it was interrupted, print no traceback and leave no process behind.
Where a signal can still be taken in such a place (a finalizer), grade-class
keeps it, prints nothing, and raises it when its next held block ends;
grade delivers it again, once its unraisable hook has returned (CI once saw
the signal delivered again handled inside the hook: "Exception ignored in
sys.unraisablehook" and a traceback, in test_grade_cli's SIGTERM test).
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

import psutil
import pytest
from testkit.notebooks import solved, write


def kernels_parent_of(temp):
    """Where the grader makes kernel folders when TMPDIR is ``temp`` (asked of a fresh process)."""
    code = "from nnbasics.grading.kernel import kernels_parent; print(kernels_parent())"
    out = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "TMPDIR": temp}, capture_output=True, text=True
    )
    return out.stdout.strip()


# Sends the signal from the parent's side of the first fork a multiprocessing pool makes, then runs the CLI.
SIGNAL_AT_FORK = """
import os, runpy, signal, sys, traceback
sent = []
signum = getattr(signal, sys.argv[2])  # argv: a marker (this run's folder), the signal, the command's arguments

def at_fork():
    if not sent and any("multiprocessing" in f.filename for f in traceback.extract_stack()):
        sent.append(os.getpid())
        os.kill(os.getpid(), signum)

os.register_at_fork(after_in_parent=at_fork)
sys.argv = ["nnbasics", *sys.argv[3:]]
runpy.run_module("nnbasics.cli", run_name="__main__")
"""

ASSIGNMENTS = ("01_neuron", "02_learning_rate")


def _leftovers(marker):
    """Processes of the run still there: its workers carry the marker (the run's temporary folder) in their command
    line, its kernels (whose connection files are in that folder) in theirs."""
    return [p for p in psutil.process_iter(["cmdline"]) if marker in " ".join(p.info["cmdline"] or [])]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="only Linux forks the pools' workers")
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("command", ["grade", "grade-class"])
def test_a_signal_while_the_pool_forks_stops_the_command_without_a_traceback(command, signame, tmp_path, grader_env):
    if command == "grade":
        for a in ASSIGNMENTS:
            write(solved(a), tmp_path / f"{a}.ipynb")
        args = ["grade", *(f"{a}.ipynb" for a in ASSIGNMENTS)]
    else:
        for student in ("s0", "s1"):
            for a in ASSIGNMENTS:
                write(solved(a), tmp_path / "submitted" / student / a / f"{a}.ipynb")
        args = ["grade-class", "submitted", "--jobs", "2"]
    # short enough for the kernels' socket paths (kernel.kernels_parent), so that their folders are made in it
    temp = tempfile.mkdtemp(prefix="fork-", dir="/tmp")
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_AT_FORK, temp, signame, *args],
        cwd=tmp_path,
        env={**grader_env, "TMPDIR": temp},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the command did not end after the signal")
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert proc.returncode == 128 + getattr(signal, signame), (proc.returncode, out, err)
    assert "interrupted" in err, err
    if command == "grade-class":  # the gradebook and journal were opened: nothing was graded in the run
        assert "graded " not in out, out
    assert kernels_parent_of(temp) == temp
    assert not _leftovers(temp), "a process of the run outlived it"
    shutil.rmtree(temp, ignore_errors=True)


# A signal taken in a finalizer, where CPython prints the handler's exception as "ignored" and drops it.
FINALIZED = """
import os, signal, sys

class Finalized:
    def __del__(self):
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
        sum(n for n in range(3))  # a call: the handler runs here at the latest, still in the finalizer
"""
IN_A_FINALIZER = (
    FINALIZED
    + """
from nnbasics.grading.classmode import Interrupts

with Interrupts() as interrupts:
    Finalized()
    print("went on")
    try:
        with interrupts.held():
            pass
    except KeyboardInterrupt as e:
        print("raised", type(e).__name__)
"""
)


# nnbasics grade's way with a signal taken in a finalizer: its unraisable hook delivers the signal again. The
# hook is kept running for half a second (Thread.start made slow), as a busy machine can keep it: the signal
# delivered again must not be handled inside the hook, where its exception would be dropped a second time.
IN_A_FINALIZER_OF_GRADE = (
    FINALIZED
    + """
import threading, time
from nnbasics.grading import command

command.stop_on_sigterm()
start = threading.Thread.start
threading.Thread.start = lambda self: (start(self), time.sleep(0.5))

try:
    Finalized()  # the signal may come at any moment from here on: only what the handler raises is printed
    for _ in range(500):
        time.sleep(0.01)
    print("not stopped")
except KeyboardInterrupt as e:
    print("raised", type(e).__name__)
"""
)


@pytest.mark.parametrize("signame, raised", [("SIGINT", "KeyboardInterrupt"), ("SIGTERM", "Terminated")])
@pytest.mark.parametrize(
    "script, before", [(IN_A_FINALIZER, "went on\n"), (IN_A_FINALIZER_OF_GRADE, "")], ids=["grade-class", "grade"]
)
def test_a_signal_dropped_in_a_finalizer_is_raised_later_and_nothing_printed(
    script, before, signame, raised, grader_env
):
    """grade-class raises it when its next held block ends; grade once its unraisable hook has returned."""
    run = [sys.executable, "-c", script, signame]
    proc = subprocess.run(run, env=grader_env, capture_output=True, text=True, timeout=60)
    assert proc.stderr == ""
    assert proc.stdout == f"{before}raised {raised}\n"
