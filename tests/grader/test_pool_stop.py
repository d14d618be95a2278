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


INTERRUPTED_RUN = """
import sys, threading
from concurrent.futures.process import _ExecutorManagerThread
from pathlib import Path
import psutil
from nnbasics.grading import classmode
from nnbasics.grading.limits import Limits
from nnbasics.grading.material import material

tasks = [classmode.Task(sub) for sub in classmode.scan(Path(sys.argv[1]))]

def on_result(task, entry):  # Ctrl-C as the first result is saved, while the other worker still grades
    raise KeyboardInterrupt

try:
    classmode.run_local(tasks, 2, Limits(), material(), on_result)
except KeyboardInterrupt:
    pass
print(sum(isinstance(t, _ExecutorManagerThread) and t.is_alive() for t in threading.enumerate()))
print(sum(p.status() != psutil.STATUS_ZOMBIE for p in psutil.Process().children(recursive=True)))
"""


@pytest.mark.slow
def test_an_interrupted_local_run_has_ended_its_pool_before_the_interpreter_exits(tmp_path, grader_env):
    # The pool's manager thread used to be left running: Python 3.11's exit hook could then write to the wake-up
    # pipe the thread was closing, and grade-class printed a traceback (OSError: Bad file descriptor) after its
    # interrupted line. Here the other worker is still busy (a cell sleeps) when the interrupt comes.
    import nbformat
    from testkit.notebooks import solved, write

    slow = solved("01_neuron")
    slow.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(4)"))
    write(solved("01_neuron"), tmp_path / "submitted" / "s0" / "01_neuron" / "01_neuron.ipynb")
    write(slow, tmp_path / "submitted" / "s1" / "01_neuron" / "01_neuron.ipynb")
    proc = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_RUN, str(tmp_path / "submitted")],
        env=grader_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "0"], "the pool's manager thread, or a worker, outlived the interrupted run"
    assert "Traceback" not in proc.stderr, proc.stderr
