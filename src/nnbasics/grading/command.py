"""``nnbasics grade``: grade learner notebooks, print a table or JSON, exit 0/1/2.

Exit status (CONTRIBUTING.md): 0 when every notebook was graded, whatever the
score; 1 when any could not be graded (invalid or crashed); 2 for a usage
error. Notebooks are graded side by side (each in its own kernel) and are
only ever read.
"""

import json
import sys
from pathlib import Path

from ..assignments import ASSIGNMENTS, site_link

USAGE, FAILED, OK = 2, 1, 0


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

    from .grade import grade_all
    from .inputs import expand
    from .limits import Limits
    from .sandbox import missing_caps

    if lacking := missing_caps():  # once per run: the isolation or caps this machine cannot give the kernel
        print(f"nnbasics grade: note: {lacking}", file=sys.stderr)
    limits = Limits(args.timeout, args.notebook_timeout, args.memory, args.max_output)
    try:
        entries = grade_all(expand(args.notebooks), limits, args.assignment, args.html)
    except (OSError, FileNotFoundError) as e:
        print(f"nnbasics grade: error: {e}", file=sys.stderr)
        return FAILED
    except KeyboardInterrupt:
        print("nnbasics grade: interrupted", file=sys.stderr)
        return 130
    if args.json:
        json.dump(summary(entries), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print_table(entries)
    return OK if all(e["status"] == "graded" for e in entries) else FAILED
