"""The ``nnbasics`` command line: ``grade``, ``grade-class``, ``report`` and ``bench``.

Heavy imports (nbgrader, the sandbox) happen inside the subcommands, so
``nnbasics --help`` answers at once.
"""

import argparse
import os
import sys

from .assignments import ASSIGNMENTS

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one sentence and status 2, as argparse does, but never a traceback
        self.print_usage(sys.stderr)
        print(f"nnbasics: error: {message}", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def _at_least(low, kind=float):
    """An argparse type: a number of ``kind`` no smaller than ``low`` (else a usage error naming the value)."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not value >= low:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{text} is less than {low:g}")
        return value

    return parse


def _scheduler(text):
    from .grading.classmode import scheduler_address

    return scheduler_address(text)


def build_parser():
    """The argument parser of every subcommand."""
    p = _Parser(prog="nnbasics", description="Neural-network basics: grade exercises, run benchmarks.")
    p.add_argument("--version", action="version", version="nnbasics 0.1.0")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    g = sub.add_parser("grade", help="grade your exercise notebooks against the hidden tests")
    g.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="a notebook, or a directory of them")
    g.add_argument("--json", action="store_true", help="print one JSON object on standard output")
    g.add_argument("--html", metavar="DIR", help="write nbgrader feedback HTML (hidden tests stripped) here")
    g.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="limit per cell (default 10)")
    g.add_argument(
        "--notebook-timeout", type=float, default=120.0, metavar="SECONDS", help="limit per notebook (default 120)"
    )
    g.add_argument("--memory", type=int, default=2048, metavar="MB", help="kernel memory cap in MiB (default 2048)")
    g.add_argument("--max-output", type=int, default=1024, metavar="KB", help="captured output cap per notebook in KiB")
    g.add_argument("--assignment", metavar="ID", help="grade as this assignment instead of detecting it")
    g.add_argument("--watch", action="store_true", help="grade again each time the notebook is saved (Ctrl+C stops)")

    c = sub.add_parser(
        "grade-class",
        help="grade a class's submissions (nbgrader's submitted/ layout)",
        description="Grade SUBMITTED_DIR/<student>/<assignment>/<notebook>.ipynb into the course root (its parent): "
        "gradebook.db, autograded/, feedback/ (with --feedback) and the CSV. A re-run grades what is new or changed.",
    )
    c.add_argument("submitted", metavar="SUBMITTED_DIR")
    c.add_argument(
        "--jobs", type=_at_least(1, int), default=None, metavar="N", help="worker processes (default: cores)"
    )
    c.add_argument("--out", default="class-grades.csv", metavar="CSV", help="CSV to write (default class-grades.csv)")
    c.add_argument(
        "--scheduler", type=_scheduler, metavar="ADDRESS", help="a Dask scheduler (tcp://host:port, or local:N)"
    )
    c.add_argument("--force", action="store_true", help="grade again what is already graded and unchanged")
    c.add_argument("--student", action="extend", nargs="+", metavar="NAME", help="(re)grade only these students")
    c.add_argument(
        "--assignment", action="extend", nargs="+", choices=ASSIGNMENTS, metavar="ID", help="(re)grade only these"
    )
    c.add_argument("--feedback", action="store_true", help="write feedback/<student>/<assignment>/<id>.html")
    c.add_argument("--timeout", type=_at_least(0.5), default=10.0, metavar="SECONDS", help="limit per cell (10)")
    c.add_argument(
        "--notebook-timeout", type=_at_least(1.0), default=120.0, metavar="SECONDS", help="limit per notebook (120)"
    )
    c.add_argument("--memory", type=_at_least(64, int), default=2048, metavar="MB", help="kernel memory cap (2048)")
    c.add_argument("--max-output", type=_at_least(1, int), default=1024, metavar="KB", help="output cap (1024)")
    c.add_argument("--report", metavar="DIR", help="then write the item-analysis report (index.html, CSV, JSON) here")

    r = sub.add_parser("report", help="rebuild a graded class's item-analysis report from its stored results")
    r.add_argument("submitted", metavar="SUBMITTED_DIR")
    r.add_argument("--report", required=True, metavar="DIR", help="folder to write index.html, CSV and JSON to")

    b = sub.add_parser("bench", help="print the benchmark figures (core, site, grader, report)")
    b.add_argument(
        "parts",
        nargs="*",
        choices=["core", "site", "grader", "report", []],
        metavar="PART",
        help="core, site, grader or report",
    )
    return p


def main(argv=None):
    """Entry point of the ``nnbasics`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    try:
        return _run(args)
    except KeyboardInterrupt as e:  # or SIGTERM (grade's and grade-class's Terminated) outside their own handling
        from .grading.command import Terminated  # light: the standard library and assignments

        print(f"nnbasics {args.command}: interrupted", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    except Exception as e:  # one sentence, not a traceback (NNBASICS_DEBUG=1 shows it)
        if os.environ.get("NNBASICS_DEBUG"):
            raise
        print(f"nnbasics {args.command}: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def console():
    """The ``nnbasics`` program (console script, ``python -m nnbasics``): ``main``, then the process ends at once.

    At the end of a run nothing is left to do but the interpreter's teardown,
    which frees one by one every module and object nbgrader, nbconvert and
    SQLAlchemy loaded: 50-60 ms of each ``nnbasics grade``, a learner's
    feedback delayed for nothing. So the output is flushed and the exit
    handlers run, as at a normal exit, and the process then ends without it.
    While a thread that is not a daemon still runs, a normal exit (which
    waits for it) is taken instead.
    """
    import atexit
    import threading

    status = main()
    if any(not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(status)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # its reader has gone (`nnbasics grade ... | head -1`), or it was closed
            pass
    atexit._run_exitfuncs()  # (the handlers a normal exit runs: logging's, weakref finalizers, multiprocessing's)
    os._exit(0 if status is None else status if isinstance(status, int) else 1)  # as sys.exit(status) would


def _run(args):
    if args.command == "grade":
        from .grading.command import grade_command

        return grade_command(args)
    if args.command == "grade-class":
        return _grade_class(args)
    if args.command == "report":
        from .report import report_command

        return report_command(args)
    from .bench import main as bench_main

    return bench_main(args.parts or None)


def _grade_class(args):
    """``grade-class``, then its report: built here, since the grading wing imports nothing from the report."""
    from .grading.classmode import grade_class_command

    if args.report:
        from .report import check_destination

        problem = check_destination(args.submitted, args.report)
        if problem:  # before anything is graded or written
            print(f"nnbasics grade-class: error: {problem}", file=sys.stderr)
            return USAGE_ERROR
    status = grade_class_command(args)
    if args.report and status in (0, 1):  # graded (some submissions maybe not gradable): report on the class
        from .report import report_command

        built = report_command(args, prog="nnbasics grade-class")
        status = status if built == 0 else built
    return status


if __name__ == "__main__":
    console()
