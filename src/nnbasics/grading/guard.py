"""A watch on the grader's own memory while a kernel runs, for the one message zmq cannot bound: one of many parts.

zmq refuses a *part* of a message larger than the channel allows
(``limits.MAX_MESSAGE_BYTES``) and queues few *messages*
(``limits.MESSAGE_QUEUE``), but it keeps every part of a message until the
last one arrives, and no zmq option limits how many parts that is. A
kernel can send one message of a thousand 16 MiB parts (the same buffer
each time, so that its own memory hardly grows) and the grader would hold
16 GiB before reading any of it.

So while a kernel runs (``guarded``), a thread reads this process's resident
memory every few milliseconds (through psutil, on every system). When it
grows past what it was when the kernel started plus ``limits.GROWTH_BYTES``
for each notebook the process is grading at that moment (a Dask worker may
grade several in threads), the thread calls ``kill`` once: the kernel dies,
zmq drops the unfinished message, and its memory is given back. A correct
notebook grows the grader by about 30 MiB (measured: 22-32 MiB with
03_initialization's results, the largest).
"""

import contextlib
import threading

import psutil

from .limits import GROWTH_BYTES

EVERY = 0.005  # seconds between two reads: zmq takes in at most a few tens of MiB meanwhile
_ACTIVE = [0]  # notebooks this process is grading now (each in its own ``guarded`` block)
_LOCK = threading.Lock()


@contextlib.contextmanager
def guarded(kill, growth=GROWTH_BYTES, every=EVERY):
    """Within the block, call ``kill()`` (in another thread, once) if this process outgrows its start by ``growth``.

    The allowance is ``growth`` for each block open at that moment in the
    process.
    """
    me = psutil.Process()
    start, stop = me.memory_info().rss, threading.Event()

    def watch():
        while not stop.wait(every):
            if me.memory_info().rss > start + _ACTIVE[0] * growth:
                kill()
                return

    with _LOCK:
        _ACTIVE[0] += 1
    watcher = threading.Thread(target=watch, name="nnbasics-memory-guard", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
        with _LOCK:
            _ACTIVE[0] -= 1
