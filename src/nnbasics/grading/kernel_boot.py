"""What the grader's kernel does at boot, before any cell runs: load NumPy and compile the test helpers once.

The grader copies this file and ``checks.py`` into the kernel's directory
(``BOOT_FILE``, ``CHECKS_FILE``) and the kernel runs ``boot()`` at start-up
(``BOOT_LINE``, an IPython ``exec_lines`` entry). That happens while the
grader is still importing nbgrader, so none of it is on the way to the
verdict:

- NumPy is imported (0.15-0.3 s), under no name of the learner's
  namespace, which stays as in Jupyter; debugpy, which ipykernel's launch
  skipped (``SKIPPED_AT_LAUNCH``), can be imported again;
- the helpers are compiled into ``sys._nnbasics_checks``, which every probe
  runs in a namespace of its own (``seal_tests.probe_source``) instead of
  compiling 34 KB of source again;
- the notebook's checks cell (``CHECKS_HEADER`` plus checks.py, restored by
  nbgrader's ``OverwriteCells``) runs that same code object in the learner's
  namespace. IPython would otherwise tokenize and compile the cell statement
  by statement: 0.1-0.15 s a notebook. Both leave the same names in the
  namespace, ``__doc__`` included (IPython too runs a cell as a module). A
  cell that differs from the helpers by one character runs as written.

Learner code runs in the same kernel afterwards and could replace any of
this, as it could replace ``compile`` or ``exec``; what the kernel sends back
is data, judged in the grader against expectations the kernel never sees.

This file is standalone (the standard library, and IPython once booted):
it runs in the sandbox, which sees the Python installation but not an
editable install's source folder.
"""

import sys

BOOT_FILE = "nnbasics-boot.py"
CHECKS_FILE = "nnbasics-checks.py"
CHECKS_HEADER = "# Test helpers: run this cell first and do not edit it (the grader uses its own copy).\n"
# one line, for the kernel's command line; it leaves no name behind in the learner's namespace
BOOT_LINE = (
    f"exec(compile(open({BOOT_FILE!r}, encoding='utf-8').read(), {BOOT_FILE!r}, 'exec'), "
    "_nnb := {'__name__': 'nnbasics_boot'}); _nnb['boot'](); del _nnb"
)
# ipykernel imports debugpy at start-up (0.08 s, a fifth of its imports) to offer a debugger, which no graded run
# uses: the launch marks it absent (``sys.modules[name] = None``) and ``boot`` unmarks it, so learner code can still
# import it
SKIPPED_AT_LAUNCH = ("debugpy",)
RUN_PRELOADED = "exec(__import__('sys')._nnbasics_checks, globals())\n"


def run_preloaded(cell):
    """An IPython cleanup transformer: the exact checks cell becomes a run of the preloaded helpers."""

    def transform(lines):
        return [RUN_PRELOADED] if "".join(lines).rstrip("\n") == cell else lines

    return transform


def boot(checks_file=CHECKS_FILE):
    """In the kernel, at start-up (cwd: the kernel's directory): NumPy, the compiled helpers, the transformer."""
    for name in SKIPPED_AT_LAUNCH:
        if name in sys.modules and sys.modules[name] is None:
            del sys.modules[name]
    import numpy  # noqa: F401  (loaded now rather than by the notebook's first cell)
    from IPython import get_ipython

    with open(checks_file, encoding="utf-8") as f:
        source = f.read()
    sys._nnbasics_checks = compile(source, "nnbasics-checks", "exec")
    cell = CHECKS_HEADER + source.rstrip("\n")
    get_ipython().input_transformers_cleanup.insert(0, run_preloaded(cell))  # first: it sees the cell as sent
