"""A pool worker sent SIGTERM while it sends its result: the result arrives and the command can end.

``nnbasics grade`` and ``grade-class`` stop their workers with SIGTERM. One
that had finished its notebook used to end at once, possibly in the middle of
sending its result (a grade-class result holds the graded notebook, tens of
kilobytes, sent in several writes): the pool's reader then waited for the rest
for ever, and so did the interpreter's exit, which joins it (CI saw
``grade-class --jobs 2`` print "interrupted" and never end). Here the worker
is stopped while it waits for the pipe to take more of a 256 MiB result
(Linux's /proc says where it waits), through the real pool and each
command's own worker set-up. With the old handlers (SIGTERM's default action,
``os._exit``) this script never ends.
"""

import subprocess
import sys

import pytest

STOPPED_WHILE_SENDING = """
import multiprocessing, sys, time
from concurrent.futures import ProcessPoolExecutor
import psutil
from nnbasics.grading import classmode, grade

def big(n):
    return b"x" * n

setup = {"grade": (grade._start_worker, (None,)), "grade-class": (classmode._worker_start, (None,))}[sys.argv[1]]
pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"), initializer=setup[0], initargs=setup[1])
pool.submit(int).result()  # the worker is up, and idle
worker = psutil.Process().children()[0]
future = pool.submit(big, 256 << 20)
wchan = f"/proc/{worker.pid}/wchan"
while not open(wchan).read().endswith("pipe_write"):  # the worker waits for the pipe to take more of its result
    time.sleep(0.0005)
worker.terminate()  # as the commands stop their workers
pool.shutdown(wait=False, cancel_futures=True)
print(len(future.result()))
"""


# /proc says where a process waits, and the commands fork their workers, on Linux only
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's /proc and forked workers")
@pytest.mark.parametrize("command", ["grade", "grade-class"])
def test_a_worker_stopped_while_sending_its_result_still_delivers_it(command, grader_env):
    try:
        proc = subprocess.run(
            [sys.executable, "-c", STOPPED_WHILE_SENDING, command],
            env=grader_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:  # (subprocess.run kills it)
        pytest.fail("the pool's reader waited for ever for the rest of a result cut short")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(256 << 20)]
