"""``nnbasics grade``: grade learner notebooks, print a table or JSON, exit 0/1/2.

Exit status (CONTRIBUTING.md): 0 when every notebook was graded, whatever the
score; 1 when any could not be graded (invalid or crashed); 2 for a usage
error. Notebooks are graded side by side (each in its own kernel) and are
only ever read. A notebook whose Jupyter checkpoint is newer than the file
gets a one-sentence note (``unsaved_note``): the file is what is graded.
``--watch`` is ``watch.py``.
"""

import json
import signal
import sys
import threading
import time
from pathlib import Path

from ..assignments import ASSIGNMENTS, site_link

USAGE, FAILED, OK = 2, 1, 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl+C would raise ``KeyboardInterrupt`` (and handled the same way); exit status 143.

    The one class for ``grade`` and ``grade-class`` (``classmode`` imports it), so ``cli`` can tell it apart.
    """


def stop_on_sigterm():
    """A ``kill`` (SIGTERM) stops the command as Ctrl+C does: kernels stopped, temporary folders removed."""

    def stop(_signum, _frame):
        _quiet_about_the_stop()
        raise Terminated

    if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        if not getattr(sys.unraisablehook, "redelivers", False):
            sys.unraisablehook = _redelivering(sys.unraisablehook)


def _not_the_stop(record):
    """A log record other than a library's error report of the stop or of what it left behind.

    The interrupt is the record's exception or one it was raised while handling:
    SQLAlchemy, stopped inside a fetch, closes the cursor of a database already
    closed and logs that ``ProgrammingError``, whose context is the interrupt.
    """
    error = record.exc_info[1] if record.exc_info else None
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return False
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return True


def _quiet_about_the_stop():
    """From the stop on, what libraries log about the interrupt (SQLAlchemy closing a connection) is not printed."""
    import logging

    for handler in [logging.lastResort, *logging.getLogger().handlers]:
        if handler is not None and _not_the_stop not in handler.filters:
            handler.addFilter(_not_the_stop)


def _redelivering(previous):
    """An unraisable hook that delivers again a SIGTERM or Ctrl+C that hit a finalizer.

    Python only prints an exception raised in a ``__del__`` or a weakref
    callback (a database connection closed by the collector, say): the stop
    would be lost, with a traceback on the terminal. The signal is raised
    again instead, and reaches the code the finalizer interrupted.
    """

    def hook(unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            signum = signal.SIGTERM if isinstance(unraisable.exc_value, Terminated) else signal.SIGINT
            # from another thread, once this hook has returned: a handler run while it runs (even inside
            # Thread.start, which waits for the thread) would raise in the hook, and the stop be lost again
            args = (signum, hook.__code__, threading.main_thread().ident)
            threading.Thread(target=_raise_once_left, args=args, daemon=True).start()
        else:
            previous(unraisable)

    hook.redelivers = True
    return hook


def _raise_once_left(signum, code, thread_id):
    """Raise ``signum`` once the thread ``thread_id``, which runs Python's signal handlers, is out of ``code``."""
    while _inside(code, thread_id):
        time.sleep(0.001)
    signal.raise_signal(signum)


def _inside(code, thread_id):
    frame = sys._current_frames().get(thread_id)
    while frame is not None and frame.f_code is not code:
        frame = frame.f_back
    return frame is not None


def _usage(message):
    print(f"nnbasics grade: error: {message}", file=sys.stderr)
    return USAGE


def summary(entries):
    """The JSON object of ``--json``: totals over graded notebooks and the notebook entries."""
    return {
        "score": float(sum(e["score"] for e in entries)),
        "max_score": float(sum(e["max_score"] for e in entries)),
        "notebooks": entries,
    }


def _checkpoints(path):
    """The checkpoints Jupyter keeps of ``path``: ``.ipynb_checkpoints/<stem>-<id>.ipynb`` beside it.

    jupyter_server's ``FileCheckpoints`` (JupyterLab, Notebook 7, nbclassic)
    writes ``<stem>-checkpoint.ipynb`` there on every save with checkpoint.
    """
    folder = path.parent / ".ipynb_checkpoints"
    try:
        return [p for p in folder.glob(f"{path.stem}-*{path.suffix}") if p.is_file()]
    except OSError:
        return []


def unsaved_note(path):
    """One sentence when Jupyter holds a newer copy of ``path`` than the file itself, else None.

    Only ``stat`` and, for a newer checkpoint, a comparison of bytes: nothing
    is written. A checkpoint whose content equals the file's says nothing.
    """
    path = Path(path)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    for checkpoint in sorted(_checkpoints(path)):
        try:
            newer = checkpoint.stat().st_mtime > mtime + 1.0  # FAT and some network drives keep 2 s steps
            if not newer or checkpoint.read_bytes() == path.read_bytes():
                continue
        except OSError:
            continue
        saved = time.strftime("%H:%M:%S", time.localtime(checkpoint.stat().st_mtime))
        return (
            f"note: {path.name} is older than the copy Jupyter saved at {saved} "
            f"({checkpoint.parent.name}/{checkpoint.name}), so this grades the older file: "
            "if the notebook shows unsaved edits, save it (Ctrl+S) and grade again"
        )
    return None


def _table_imports():
    import rich.console
    import rich.table  # noqa: F401


def print_table(entries, console=None):
    """A readable report: one table per notebook, feedback under each failed test."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    for e in entries:
        title = f"{e['path']}" + (f"  ({e['assignment']})" if e["assignment"] else "")
        if e["status"] == "invalid":
            console.print(f"[bold]{title}[/bold]: [red]not graded[/red]: {e['error']}")
            continue
        table = Table(title=title, title_justify="left", show_lines=False)
        table.add_column("test")
        table.add_column("points", justify="right")
        table.add_column("result")
        table.add_column("feedback", overflow="fold")
        for t in e["tests"]:
            mark = "[green]pass[/green]" if t["passed"] else "[red]fail[/red]"
            table.add_row(t["grade_id"], f"{t['score']:g} / {t['max_score']:g}", mark, t["feedback"] or "")
        console.print(table)
        if e["status"] == "crashed":
            console.print(f"[red]crashed[/red]: {e['error']} (its tests count 0)")
        console.print(f"score {e['score']:g} / {e['max_score']:g}")
        if e["assignment"] and any(not t["passed"] for t in e["tests"]):
            console.print(f"read again: {site_link(e['assignment'])}")
        console.print()


def grade_command(args):
    """Run ``nnbasics grade`` from parsed arguments; return the exit status."""
    if args.assignment is not None and args.assignment not in ASSIGNMENTS:
        return _usage(f"--assignment must be one of {', '.join(ASSIGNMENTS)}, got {args.assignment!r}")
    for flag, value in (("--timeout", args.timeout), ("--notebook-timeout", args.notebook_timeout)):
        if not value > 0:
            return _usage(f"{flag} must be a positive number of seconds, got {value:g}")
    if args.memory < 256:  # an idle kernel with NumPy already holds about 200 MiB
        return _usage(f"--memory must be at least 256 MiB, got {args.memory}")
    if args.max_output < 1:
        return _usage(f"--max-output must be at least 1 KiB, got {args.max_output}")
    if args.html and Path(args.html).exists() and not Path(args.html).is_dir():
        return _usage(f"--html needs a folder, and {args.html} is a file")
    if args.watch and (len(args.notebooks) != 1 or Path(args.notebooks[0]).is_dir()):
        return _usage("--watch takes one notebook file")

    from .. import _env, _fast_imports

    _env.one_blas_thread()  # before NumPy loads (nothing has imported it yet: nnbasics loads its core lazily)
    _fast_imports.defer_markdown()  # only --html renders markdown: the first page imports the renderer
    if args.watch:
        return _watch(args)
    _fast_imports.pause_collector()  # a run that ends after its notebooks: grade_all resumes it after the imports
    try:
        return _grade_files(args)
    finally:
        _fast_imports.resume_collector()  # (when grade_all did not: a usage error, an unreadable folder)


def _limits(args):
    from .limits import Limits
    from .sandbox import missing_caps

    if lacking := missing_caps():  # once per run: the isolation or caps this machine cannot give the kernel
        print(f"nnbasics grade: note: {lacking}", file=sys.stderr)
    return Limits(args.timeout, args.notebook_timeout, args.memory, args.max_output)


def _watch(args):
    from .watch import watch

    return watch(args.notebooks[0], _limits(args), args)


def _grade_files(args):
    from .grade import grade_all
    from .inputs import expand

    limits = _limits(args)
    items = expand(args.notebooks)
    for path, data in items:
        note = None if isinstance(data, str) else unsaved_note(path)
        if note:
            print(f"nnbasics grade: {note}", file=sys.stderr)
    stop_on_sigterm()
    try:
        # the table's imports (rich: 50 ms) are done while the workers grade, not after
        entries = grade_all(items, limits, args.assignment, args.html, meanwhile=None if args.json else _table_imports)
    except (OSError, FileNotFoundError) as e:
        print(f"nnbasics grade: error: {e}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt as e:
        print("nnbasics grade: interrupted", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    if args.json:
        json.dump(summary(entries), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(entries)
    return OK if all(e["status"] == "graded" for e in entries) else FAILED
