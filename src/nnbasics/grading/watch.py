"""``nnbasics grade --watch NOTEBOOK``: grade the notebook again each time it is saved, until Ctrl+C.

One long-lived process, so that a save is graded in a fraction of the time a
fresh ``nnbasics grade`` takes: nbgrader and the pipeline are imported once,
and the next save's sandboxed kernel is launched as soon as a grade is done
(``kernel.launch_ahead``), so it has booted by the time the learner saves
again. Each grade is still a fresh kernel, a fresh private course and the
whole pipeline (``grade.grade_one``): nothing of one run is reused by the next
but imported code.

The file is watched by polling its ``stat`` (modification time, size, inode)
every ``POLL`` seconds: portable, and it sees the way editors save (Jupyter
writes a temporary file and renames it over the notebook; others truncate and
write, or delete and create). A change is graded once the ``stat`` has stayed
the same for ``SETTLE`` seconds, so a save in several steps is graded once,
complete. The file is only ever read.
"""

import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from .command import stop_on_sigterm

POLL = 0.02  # seconds between looks at the file (a stat: next to nothing)
SETTLE = 0.05  # seconds the file must stay unchanged before it is read

OK, FAILED = 0, 1


def signature(path):
    """``(mtime_ns, size, inode)`` of ``path``, or None while it does not exist (in the middle of a save)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def settled(path, seen, stop=None):
    """Wait until ``path`` is saved: its signature differs from ``seen`` and then holds for ``SETTLE`` s.

    Returns the new signature; ``stop()`` returning True (tests) ends the wait with None.
    """
    while True:
        if stop is not None and stop():
            return None
        time.sleep(POLL)
        now = signature(path)
        if now is None or now == seen:
            continue
        while True:  # the save may come in several writes: grade the last one
            time.sleep(SETTLE)
            again = signature(path)
            if again == now:
                return now
            now = again


class Session:
    """The grading side of a watch: a kernel always launched ahead, and one grade per save."""

    def __init__(self, path, limits, assignment=None, html_dir=None):
        from . import kernel
        from .limits import as_config

        self.path, self.limits, self.assignment, self.html_dir = Path(path), limits, assignment, html_dir
        self._kernel, self._config = kernel, as_config(limits)
        self._ahead_ok = sys.platform.startswith("linux")  # as grade_all: adoption is tested on Linux
        self.ahead = self._used = None
        self.launch()  # first of all: it boots while the grader imports nbgrader

    def launch(self):
        """Release the kernel the last grade used, and launch the next grade's kernel now."""
        self._release()
        if self._ahead_ok and self.ahead is None:
            self.ahead = self._kernel.launch_ahead(self._config)

    def grade(self):
        """Grade the file as it is on disk now; returns its entry (as in ``--json``).

        The kernel it adopted is released by the next ``launch`` (or ``close``),
        after the table is shown.
        """
        from .grade import grade_one
        from .inputs import read_submission

        self._used, self.ahead = self.ahead, None
        adopt = (self._used.kernel_dir, self._used.provisioner.pid) if self._used else None
        item = (str(self.path), read_submission(self.path))
        return grade_one(item, self.limits, self.assignment, self.html_dir, adopt)

    def _release(self):
        used, self._used = self._used, None
        if used is not None:
            self._kernel.discard(used)

    def close(self):
        """Stop the kernels this session launched, if any still runs."""
        self._release()
        ahead, self.ahead = self.ahead, None
        if ahead is not None:
            self._kernel.discard(ahead)


@contextlib.contextmanager
def _no_interrupts():
    """Ignore Ctrl+C and SIGTERM for the duration (the main thread only: elsewhere signals cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = [n for n in ("SIGINT", "SIGTERM") if hasattr(signal, n)]
    previous = {n: signal.signal(getattr(signal, n), signal.SIG_IGN) for n in names}
    try:
        yield
    finally:
        for n, handler in previous.items():
            signal.signal(getattr(signal, n), handler)


def _show(entry, as_json, console):
    from .command import print_table, summary

    if as_json:  # one JSON object per grade, one per line
        sys.stdout.write(json.dumps(summary([entry])) + "\n")
        sys.stdout.flush()
        return
    console.rule(f"{Path(entry['path']).name} graded at {time.strftime('%H:%M:%S')}", style="dim")
    print_table([entry], console)
    sys.stdout.flush()  # a pipe (an editor's terminal, a test) sees each table at once


def watch(path, limits, args, stop=None):
    """Run ``nnbasics grade --watch``: grade ``path`` now and after every save; Ctrl+C ends it.

    Returns the exit status of the last grade (0 graded, 1 not), as
    ``nnbasics grade`` would for that file.
    """
    stop_on_sigterm()
    session = Session(path, limits, args.assignment, args.html)
    entry = None
    try:
        from rich.console import Console

        from .command import unsaved_note

        console = Console()
        seen = signature(path)
        note = unsaved_note(path)
        if note:
            print(f"nnbasics grade: {note}", file=sys.stderr)
        entry = session.grade()
        _show(entry, args.json, console)
        session.launch()
        print(f"nnbasics grade: watching {path}: save it to grade again, Ctrl+C to stop", file=sys.stderr, flush=True)
        while True:
            seen = settled(path, seen, stop)
            if seen is None:
                break
            entry = session.grade()
            _show(entry, args.json, console)
            session.launch()
    except KeyboardInterrupt:
        print("nnbasics grade: stopped watching", file=sys.stderr)
    finally:
        with _no_interrupts():  # a second Ctrl+C must not leave a kernel behind
            session.close()
    return OK if entry is not None and entry["status"] == "graded" else FAILED
